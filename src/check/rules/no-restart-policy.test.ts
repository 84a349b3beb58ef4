import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noRestartPolicy } from './no-restart-policy.js';
import { brief, service, single } from '../test-helpers/make.js';

describe('no-restart-policy', () => {
  it('warns about long-running services without restart or deploy.restart_policy', () => {
    const f = noRestartPolicy(
      single([
        service('api', {
          dependsOn: { migrate: { condition: 'service_completed_successfully', required: true, restart: false } },
        }),
        service('migrate'),
        service('web', { restart: 'unless-stopped' }),
        service('swarm', { deployRestartCondition: 'on-failure' }),
        service('job', { restart: 'no' }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'no-restart-policy',
        severity: 'warning',
        message: 'app/api has no restart policy: it stays down after a crash or a server reboot',
        path: 'services/api',
      },
    ]);
  });
});
