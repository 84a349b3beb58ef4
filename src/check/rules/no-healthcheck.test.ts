import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noHealthcheck } from './no-healthcheck.js';
import { brief, port, service, single } from '../test-helpers/make.js';
import type { Dependency } from '../../model/compose.js';

const healthy: Dependency = { condition: 'service_healthy', required: true, restart: false };
const check = { test: ['CMD', 'pg_isready'], disabled: false };

describe('no-healthcheck', () => {
  it('is an error when others wait for it with service_healthy', () => {
    const f = noHealthcheck(
      single([
        service('db'),
        service('api', { dependsOn: { db: healthy }, healthcheck: check }),
        service('worker', { dependsOn: { db: healthy } }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'no-healthcheck',
        severity: 'error',
        message: 'app/db has no healthcheck, but api, worker wait for it with condition: service_healthy',
        path: 'services/db',
      },
    ]);
    assert.match(f[0]?.hint ?? '', /has no healthcheck configured/);
    assert.match(f[0]?.hint ?? '', /HEALTHCHECK in the image's Dockerfile/);
  });

  it('points at a disabled healthcheck', () => {
    const f = noHealthcheck(
      single([
        service('db', { healthcheck: { disabled: true } }),
        service('api', { dependsOn: { db: healthy }, healthcheck: check }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'no-healthcheck',
        severity: 'error',
        message: 'app/db has its healthcheck disabled, but api waits for it with condition: service_healthy',
        path: 'services/db/healthcheck',
      },
    ]);
  });

  it('warns about services that publish ports without a healthcheck', () => {
    const f = noHealthcheck(
      single([
        service('web', { ports: [port(0, 80, 80)] }),
        service('api', { ports: [port(0, 8000, 8000)], healthcheck: { test: ['NONE'], disabled: false } }),
        service('ok', { ports: [port(0, 81, 80)], healthcheck: check }),
        service('worker'),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'no-healthcheck',
        severity: 'warning',
        message: 'app/web publishes ports but has no healthcheck',
        path: 'services/web',
      },
      {
        code: 'no-healthcheck',
        severity: 'warning',
        message: 'app/api publishes ports but has its healthcheck disabled',
        path: 'services/api',
      },
    ]);
  });
});
