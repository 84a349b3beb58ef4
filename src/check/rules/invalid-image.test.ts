import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invalidImage } from './invalid-image.js';
import { floatingTag } from './floating-tag.js';
import { brief, service, single } from '../test-helpers/make.js';

describe('invalid-image', () => {
  it('refuses references Docker refuses, and only those; floating-tag leaves them to it', () => {
    const fleet = single([
      service('web', { image: 'nginx:1.27 ; rm -rf /' }),
      service('api', { image: 'Acme/API:1' }),
      service('db', { image: 'postgres:16.4' }),
      service('app', { image: 'example/app:' }),
    ]);
    assert.deepEqual(brief(invalidImage(fleet)), [
      {
        code: 'invalid-image',
        severity: 'error',
        message:
          'app/web: image "nginx:1.27 ; rm -rf /" contains a space: Docker refuses it ("invalid reference format")',
        path: 'services/web/image',
      },
      {
        code: 'invalid-image',
        severity: 'error',
        message:
          'app/api: image "Acme/API:1" has capital letters in its name: Docker refuses it ("invalid reference format")',
        path: 'services/api/image',
      },
      {
        code: 'invalid-image',
        severity: 'error',
        message:
          'app/app: image "example/app:" is not a valid reference: Docker refuses it ("invalid reference format")',
        path: 'services/app/image',
      },
    ]);
    assert.deepEqual(floatingTag(fleet), []);
  });
});
