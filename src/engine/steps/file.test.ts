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
import { drive, testContext } from '../test-helpers.js';
import { fileStep } from './file.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const STAT = (p: string) => `stat -c '%a %U:%G %s' ${p}`;
const SUM = (p: string) => `sha256sum ${p}`;
const KEEP = (p: string) => `cp -p ${p} ${p}.ferry-prev`;
const KEEP_ONCE = (p: string) => `sh -c '[ -e "$2" ] || cp -p "$1" "$2"' sh ${p} ${p}.ferry-prev`;
const RESTORE = (p: string) => `sh -c '[ ! -e "$2" ] || mv -f "$2" "$1"' sh ${p} ${p}.ferry-prev`;

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

test('a secret file: exact commands, a copy kept on the host, upload with mode and owner, and the secret (or its hash) nowhere', async () => {
  const path = '/srv/shop/.env';
  const canary = 'TOKEN=canary-4c7e\n';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: '644 app:app 10\n' }, { times: 1 })
    .when(SUM(path), { stdout: `${sha('TOKEN=old\n')}  ${path}\n` }, { times: 1 })
    .when(KEEP(path), {})
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
  assert.deepEqual(t.lines, [STAT(path), SUM(path), KEEP(path), STAT(path), SUM(path)]);
  assert.ok(t.calls.every((c) => c.sudo));
  assert.deepEqual(
    t.calls.map((c) => c.kind),
    ['exec', 'exec', 'exec', 'upload', 'exec', 'exec'],
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
  // The previous content's hash is not observed either: it may be a secret's.
  assert.deepEqual(checked && 'observed' in checked ? checked.observed : undefined, { existed: true });
  const doc = step.doc();
  assert.deepEqual(doc.commands, [`sudo ${STAT(path)}`, `sudo ${SUM(path)}`]);
  const everything = JSON.stringify({ events, doc });
  for (const leak of ['canary', sha(canary).slice(0, 12), sha('TOKEN=old\n').slice(0, 12)])
    assert.equal(everything.includes(leak), false, leak);
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
    {
      kind: 'step-checked',
      stepId: 'compose',
      needed: true,
      change: { summary: `${path}: create (mode 644)` },
      observed: { existed: false },
    },
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

test('a changed file: check, the copy, the upload, verify and rollback from the copy (drive)', async () => {
  const path = '/etc/app.conf';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: '640 root:adm 3\n' }, { times: 1 })
    .when(SUM(path), { stdout: `${sha('a=1')}  ${path}\n` }, { times: 1 })
    .when(KEEP(path), {})
    .when(STAT(path), { stdout: '644 root:adm 3\n' })
    .when(SUM(path), { stdout: `${sha('a=2')}  ${path}\n` })
    .when(RESTORE(path), {});
  const step = fileStep({ id: 'conf', host: 'web1', path, content: 'a=2', mode: 0o644 });
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked.observed, { existed: true, hash: sha('a=1') });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(
    t.calls.map((c) => (c.kind === 'exec' ? c.line : `${c.kind} ${c.path}`)),
    [STAT(path), SUM(path), KEEP(path), `upload ${path}`, STAT(path), SUM(path), RESTORE(path)],
  );
  assert.match(step.doc().undo, /ferry-prev/);
});

test('resumed after a kill: a copy the killed run made is kept, and the rollback restores it', async () => {
  const path = '/etc/app.conf';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: '644 root:root 3\n' })
    .when(SUM(path), { stdout: `${sha('half')}  ${path}\n` })
    .when(KEEP_ONCE(path), {})
    .when(RESTORE(path), {});
  const step = fileStep({ id: 'conf', host: 'web1', path, content: 'a=2', mode: 0o644 });
  const ctx = testContext(t, { prior: { existed: true, hash: sha('a=1') } });
  const checked = await step.check(ctx);
  assert.deepEqual(checked.observed, { existed: true, hash: sha('a=1') });
  await step.apply(ctx, checked.observed!);
  await step.rollback(ctx, checked.observed!);
  assert.deepEqual(t.lines, [STAT(path), SUM(path), KEEP_ONCE(path), RESTORE(path)]);
});

test('a copy that cannot be made stops the apply before the file is touched', async () => {
  const path = '/etc/app.conf';
  const t = new RecordingTransport('web1')
    .when(STAT(path), { stdout: '640 root:adm 3\n' })
    .when(SUM(path), { stdout: `${sha('a=1')}  ${path}\n` })
    .when(KEEP(path), { code: 1, stderr: 'cp: cannot create regular file: No space left on device\n' });
  const step = fileStep({ id: 'conf', host: 'web1', path, content: 'a=2', mode: 0o644 });
  await assert.rejects(drive(step, testContext(t)), (e: Error & { code?: string }) => e.code === 'command-failed');
  assert.equal(
    t.calls.some((c) => c.kind === 'upload'),
    false,
  );
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
