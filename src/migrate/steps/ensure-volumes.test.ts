import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepError } from '../../engine/errors.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import { ensureVolumesStep } from './ensure-volumes.js';

const release = { id: 'r1', project: 'shop', composeFiles: ['compose.yml'], services: [] } satisfies ReleaseMeta;
const m = { release, target: { name: 'new', sudo: false, transport: () => new RecordingTransport() } };
const step = ensureVolumesStep({ id: 'shop/migrate/volumes', m, volumes: ['db', 'files'], dependsOn: [] });
const INSPECT = (v: string) => `docker volume inspect shop_${v} 2>/dev/null`;
const CREATE =
  'docker volume create --label com.docker.compose.project=shop --label com.docker.compose.volume=files shop_files';

test('creates the missing volumes with Compose labels; rollback removes those it created, not one in use', async () => {
  const t = new RecordingTransport('new')
    .when(INSPECT('db'), {})
    .when(INSPECT('files'), { code: 1 }, { times: 2 })
    .when(INSPECT('files'), {})
    .when(CREATE, {})
    .when('docker volume rm shop_files', {});
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ missing: ['files'] }, { ok: true }]);
  assert.deepEqual(t.lines, [
    INSPECT('db'),
    INSPECT('files'),
    INSPECT('db'),
    INSPECT('files'),
    CREATE,
    INSPECT('db'),
    INSPECT('files'),
    INSPECT('files'),
    'docker volume rm shop_files',
  ]);

  const inUse = new RecordingTransport('new').when(INSPECT('files'), {}).when('docker volume rm shop_files', {
    code: 1,
    stderr: 'Error response from daemon: remove shop_files: volume is in use - [abc]\n',
  });
  await step.rollback(testContext(inUse, { step }), { missing: ['files'] });
  assert.equal(inUse.lines.length, 2);
});

test('a volume Docker cannot create fails with the classified docker error', async () => {
  const t = new RecordingTransport('new')
    .when(INSPECT('db'), {})
    .when(INSPECT('files'), { code: 1 })
    .when(CREATE, { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n' });
  await assert.rejects(drive(step, testContext(t, { step })), (e: StepError) => e.code === 'docker-unavailable');
});
