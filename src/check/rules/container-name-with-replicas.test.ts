import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerNameWithReplicas } from './container-name-with-replicas.js';
import { brief, service, single } from '../test-helpers/make.js';

describe('container-name-with-replicas', () => {
  it('is an error with replicas > 1 only', () => {
    const f = containerNameWithReplicas(
      single([
        service('web', { containerName: 'web', replicas: 2 }),
        service('db', { containerName: 'db' }),
        service('api', { replicas: 3 }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'container-name-with-replicas',
        severity: 'error',
        message:
          'app/web sets container_name "web" and runs 2 replicas: container names are unique, so Compose refuses to scale it',
        path: 'services/web/container_name',
      },
    ]);
  });
});
