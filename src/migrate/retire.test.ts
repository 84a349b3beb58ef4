import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepError } from '../engine/errors.js';
import { drive, testContext } from '../engine/test-helpers.js';
import { dockerVersionCommand, pluginVersionCommand } from '../deploy/compose-cli.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { retireSteps } from './retire.js';

const release = { id: 'r1', project: 'shop', composeFiles: ['compose.yml'], services: [] } satisfies ReleaseMeta;
const [step] = retireSteps({ stack: 'shop', host: 'old', sudo: false, release, to: 'new' });
const MARKER = 'cat /srv/ferry/shop/migrated-to 2>/dev/null';
const DIR = 'test -d /srv/ferry/shop';
const DOWN = 'cd /srv/ferry/shop/releases/r1 && docker compose -p shop -f compose.yml down --volumes --remove-orphans';
const withEngine = (t: RecordingTransport) =>
  t
    .when(render(dockerVersionCommand), { stdout: '24.0.7\n' })
    .when(render(pluginVersionCommand), { stdout: '2.24.0\n' })
    .when(/^docker-compose version/, { code: 127 });

test('retire: compose down with the volumes, then the files and the nginx site; only where the marker names the target', async () => {
  const t = withEngine(new RecordingTransport('old'))
    .when(MARKER, { stdout: 'new\n' })
    .when(DIR, {}, { times: 1 })
    .when(DOWN, {})
    .when(/^rm -f \/etc\/nginx/, {})
    .when(DIR, { code: 1 });
  const { checked, verified } = await drive(step!, testContext(t, { step: step! }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ present: true }, { ok: true }]);
  assert.deepEqual(
    t.lines.filter((l) => !/version/.test(l)),
    [
      MARKER,
      DIR,
      DOWN,
      'rm -f /etc/nginx/sites-enabled/ferry-shop.conf /etc/nginx/ferry/shop.upstreams.conf; { nginx -t -q 2>/dev/null && if [ -d /run/systemd/system ]; then systemctl reload nginx; else nginx -s reload; fi; }; rm -rf /srv/ferry/shop',
      DIR,
    ],
  );
});

test('retire refuses a server the stack was not moved from, and a failed compose down is compose-failed', async () => {
  const notMoved = new RecordingTransport('old').when(MARKER, { code: 1 }).when(DIR, {});
  await assert.rejects(drive(step!, testContext(notMoved, { step: step! })), (e: StepError) => e.code === 'not-moved');
  const t = withEngine(new RecordingTransport('old'))
    .when(MARKER, { stdout: 'new\n' })
    .when(DIR, {})
    .when(DOWN, { code: 1, stderr: 'Error response from daemon: conflict\n' });
  await assert.rejects(
    drive(step!, testContext(t, { step: step! })),
    (e: StepError) => e.code === 'compose-failed' && /conflict/.test(e.message),
  );
  assert.ok(!t.lines.some((l) => l.startsWith('rm ')), 'nothing removed after the failed down');
});
