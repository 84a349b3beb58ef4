import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { floatingTag, floats } from './floating-tag.js';
import { brief, service, single } from '../test-helpers/make.js';

describe('floating-tag', () => {
  it('warns about :latest and missing tags', () => {
    const f = floatingTag(
      single([
        service('web', { image: 'nginx' }),
        service('cache', { image: 'redis:latest' }),
        service('db', { image: 'postgres:16.4' }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'floating-tag',
        severity: 'warning',
        message: 'app/web: image nginx has no tag (Docker pulls :latest)',
        path: 'services/web/image',
      },
      {
        code: 'floating-tag',
        severity: 'warning',
        message: 'app/cache: image redis:latest uses the :latest tag',
        path: 'services/cache/image',
      },
    ]);
  });

  it('understands registries with ports and digests', () => {
    assert.equal(floats('localhost:5000/app'), 'has no tag (Docker pulls :latest)');
    assert.equal(floats('localhost:5000/app:2.1'), undefined);
    assert.equal(floats('registry.example.com:443/team/app:LATEST'), 'uses the :latest tag');
    assert.equal(floats('nginx@sha256:0123abcd'), undefined);
    assert.equal(floats('nginx:latest@sha256:0123abcd'), undefined);
    assert.equal(floats('ghcr.io/acme/api'), 'has no tag (Docker pulls :latest)');
  });

  it('ignores services that build their image', () => {
    const f = floatingTag(
      single([
        service('api', { image: undefined, build: { context: '.' } }),
        service('web', { image: 'acme/web', build: { context: './web' } }),
      ]),
    );
    assert.deepEqual(f, []);
  });
});
