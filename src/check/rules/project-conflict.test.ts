import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brief, fleet, project, server, service, stack } from '../test-helpers/make.js';
import { projectConflict } from './project-conflict.js';

test('two stacks with one project name on one server conflict; on different servers they do not', () => {
  const a = stack('blog', project([service('web')], { name: 'site' }), { server: 'app' });
  const b = stack('shop', project([service('web')], { name: 'site' }), { server: 'app' });
  const c = stack('docs', project([service('web')], { name: 'site' }), { server: 'other' });
  assert.deepEqual(brief(projectConflict(fleet([a, b, c], [server('app'), server('other')]))), [
    {
      code: 'project-conflict',
      severity: 'error',
      message:
        'stacks blog and shop are both Compose project "site" on server app; deploying one would take over the other\'s containers',
      path: 'stacks/shop',
    },
  ]);
  assert.deepEqual(projectConflict(fleet([a, c], [server('app'), server('other')])), []);
});
