import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redactor } from '../../core/redact.js';
import { Secret } from '../../core/secret.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { RunEvent } from '../events.js';
import { makePlan } from '../plan.js';
import { runPlan } from '../run.js';
import type { Step } from '../step.js';
import { fileStep } from './file.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const STAT = (p: string) => `stat -c '%a %U:%G %s' ${p}`;
const SUM = (p: string) => `sha256sum ${p}`;

async function run(t: RecordingTransport, step: Step) {
  const events: RunEvent[] = [];
  const summary = await runPlan(makePlan([step]), {
    transports: () => t,
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
    maxPerHost: 1,
  });
  return { summary, events };
}

test('a secret file: exact commands, upload with mode and owner, and the secret (or its hash) nowhere', async () => {
  const path = '/srv/shop/.env';
  const canary = 'TOKEN=canary-4c7e\n';
  const t = new RecordingTransport('web1')
    .file(path, 'TOKEN=old\n')
    .when(STAT(path), { stdout: '644 app:app 10\n' }, { times: 1 })
    .when(SUM(path), { stdout: `${sha('TOKEN=old\n')}  ${path}\n` }, { times: 1 })
    .when(STAT(path), { stdout: '600 app:app 18\n' })
    .when(SUM(path), { stdout: `${sha(canary)}  ${path}\n` });
  const step = fileStep({
    id: 'shop/env',
    host: 'web1',
    path,
    content: new Secret(canary),
    mode: 0o600,
    owner: 'app:app',
    sudo: true,
  });
  const { summary, events } = await run(t, step);
  assert.deepEqual(summary.outcomes, { 'shop/env': 'changed' });
  assert.deepEqual(t.lines, [STAT(path), SUM(path), STAT(path), SUM(path)]);
  assert.ok(t.calls.every((c) => c.sudo));
  assert.deepEqual(
    t.calls.map((c) => c.kind),
    ['exec', 'exec', 'download', 'upload', 'exec', 'exec'],
  );
  const upload = t.calls[3];
  assert.ok(upload?.kind === 'upload' && upload.content instanceof Secret);
  assert.deepEqual(
    { ...upload, content: upload.content.reveal() },
    { kind: 'upload', path, content: canary, mode: 0o600, owner: 'app:app', sudo: true },
  );
  const checked = events.find((e) => e.kind === 'step-checked');
  assert.deepEqual(checked && 'change' in checked ? checked.change : undefined, {
    summary: '/srv/shop/.env: content changed (secret); mode 644 -> 600',
  });
  const doc = step.doc();
  assert.deepEqual(doc.commands, [`sudo ${STAT(path)}`, `sudo ${SUM(path)}`]);
  const everything = JSON.stringify({ events, doc });
  for (const leak of ['canary', sha(canary).slice(0, 12)]) assert.equal(everything.includes(leak), false, leak);
});

test('an unchanged file is ok after two commands, with no download or upload', async () => {
  const path = '/etc/app.conf';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: '640 root:adm 3\n' })
    .when(SUM(path), { stdout: `${sha('a=1')}  ${path}\n` });
  const { summary } = await run(
    t,
    fileStep({ id: 'conf', host: 'web1', path, content: 'a=1', mode: 0o640, owner: 'root' }),
  );
  assert.deepEqual(summary.outcomes, { conf: 'ok' });
  assert.deepEqual(t.lines, [STAT(path), SUM(path)]);
});

test('a new file whose verify fails is removed; the change and the message say what differs', async () => {
  const path = '/srv/shop/compose.yml';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { code: 1, stderr: `stat: cannot statx '${path}': No such file or directory\n` }, { times: 1 })
    .when(STAT(path), { stdout: '644 root:root 5\n' })
    .when(SUM(path), { stdout: `${'0'.repeat(64)}  ${path}\n` })
    .when(`rm -f ${path}`, {});
  const { summary, events } = await run(
    t,
    fileStep({ id: 'compose', host: 'web1', path, content: 'v: 1\n', mode: 0o644 }),
  );
  assert.deepEqual(summary.outcomes, { compose: 'failed' });
  assert.deepEqual(t.lines, [STAT(path), STAT(path), SUM(path), `rm -f ${path}`]);
  const pick = (kind: string) => events.filter((e) => e.kind === kind).map(({ at: _, ...e }) => e);
  assert.deepEqual(pick('step-checked'), [
    { kind: 'step-checked', stepId: 'compose', needed: true, change: { summary: `${path}: create (mode 644)` } },
  ]);
  assert.deepEqual(pick('step-verified'), [
    {
      kind: 'step-verified',
      stepId: 'compose',
      ok: false,
      message: `${path}: sha256 000000000000… -> ${sha('v: 1\n').slice(0, 12)}…`,
    },
  ]);
  assert.deepEqual(pick('rollback-end'), [{ kind: 'rollback-end', stepId: 'compose', ok: true }]);
});

test('a previous file over 1 MiB is not downloaded, and its rollback says it cannot restore it', async () => {
  const path = '/srv/big.bin';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: `644 root:root ${2 * 1024 * 1024}\n` })
    .when(SUM(path), { stdout: `${'1'.repeat(64)}  ${path}\n` });
  const step = fileStep({ id: 'big', host: 'web1', path, content: 'small', mode: 0o644 });
  const { events } = await run(t, step);
  assert.equal(
    t.calls.some((c) => c.kind === 'download'),
    false,
  );
  const end = events.find((e) => e.kind === 'rollback-end');
  assert.deepEqual(end && { ...end, at: '' }, {
    at: '',
    kind: 'rollback-end',
    stepId: 'big',
    ok: false,
    error: {
      code: 'rollback-impossible',
      message: `web1: ${path} was 2097152 bytes, over the 1048576 kept for rollback: its previous content cannot be restored`,
      hint: `restore ${path} on web1 from a backup`,
    },
  });
  assert.match(step.doc().undo, /a larger file cannot be restored/);
});

test('a failure other than a missing file is a command-failed error', async () => {
  const path = '/root/x';
  const t = new RecordingTransport('web1').when(STAT(path), {
    code: 1,
    stderr: `stat: cannot statx '${path}': Permission denied\n`,
  });
  const { events } = await run(t, fileStep({ id: 'x', host: 'web1', path, content: '', mode: 0o600 }));
  const end = events.find((e) => e.kind === 'step-end');
  assert.equal(end?.kind === 'step-end' && end.error?.code, 'command-failed');
  assert.equal(
    end?.kind === 'step-end' && end.error?.message,
    `web1: exit 1: ${STAT(path)}\nstat: cannot statx '${path}': Permission denied`,
  );
});
