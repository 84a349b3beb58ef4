import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redactor } from '../core/redact.js';
import { makePlan } from '../engine/plan.js';
import { runPlan } from '../engine/run.js';
import type { RunEvent } from '../engine/events.js';
import { testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { nginxErrors, nginxFileStep, writeNginxFile, type NginxFileObserved } from './nginx-file.js';
import { FileHost } from './test-host.js';

const PATH = '/etc/nginx/sites-enabled/ferry-shop.conf';
const COPY = '/etc/nginx/ferry/previous/shop%2Fproxy%2Fsite';
const RELOAD = 'if [ -d /run/systemd/system ]; then systemctl reload nginx; else nginx -s reload; fi';
const PGREP = "pgrep -f '[n]ginx: worker process *$' 2>/dev/null";
const EMERG =
  'nginx: [emerg] unknown directive "bogus" in /etc/nginx/sites-enabled/ferry-shop.conf:3\nnginx: configuration file /etc/nginx/nginx.conf test failed\n';
const ctx = (t: RecordingTransport) => testContext(t);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('a change nginx accepts: previous kept, atomic upload with mode 644 through sudo, nginx -t, then reload', async () => {
  const t = new RecordingTransport('web1')
    .file(PATH, 'old\n')
    .when(`test -e ${PATH}`, {})
    .when('nginx -t', { stderr: 'nginx: configuration file /etc/nginx/nginx.conf test is successful\n' })
    .when(PGREP, { stdout: '101\n102\n' }, { times: 2 })
    .when(PGREP, { stdout: '103\n104\n' })
    .when(RELOAD, {});
  const previous = await writeNginxFile(ctx(t), 'web1', PATH, 'new\n', true);
  assert.equal(previous?.toString(), 'old\n');
  // The workers before the reload, then until a new one runs: the new configuration serves when it returns.
  assert.deepEqual(
    t.calls.map((c) =>
      c.kind === 'exec'
        ? c.line
        : c.kind === 'upload'
          ? `upload ${c.path} ${c.mode.toString(8)}`
          : `${c.kind} ${c.path}`,
    ),
    [`test -e ${PATH}`, `download ${PATH}`, `upload ${PATH} 644`, 'nginx -t', PGREP, RELOAD, PGREP, PGREP],
  );
  assert.ok(t.calls.every((c) => c.sudo));
});

test('a change nginx refuses never reaches a reload: the new file is removed and the error names host, file and line', async () => {
  const t = new RecordingTransport('web1')
    .when(`test -e ${PATH}`, { code: 1 })
    .when('mkdir -p -m 755 /etc/nginx/sites-enabled', {})
    .when('nginx -t', { code: 1, stderr: EMERG }, { times: 1 })
    .when(`rm -f ${PATH}`, {})
    .when('nginx -t', {});
  await assert.rejects(
    writeNginxFile(ctx(t), 'web1', PATH, 'bogus;\n'),
    (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'nginx-config-invalid');
      assert.equal(
        e.message,
        `web1: nginx refused the new ${PATH}; the previous file was put back and nginx was not reloaded: nginx failed (exit 1):\n${EMERG.trimEnd()}`,
      );
      assert.match(e.hint ?? '', /nginx -t/);
      return true;
    },
  );
  assert.deepEqual(t.lines, [
    `test -e ${PATH}`,
    'mkdir -p -m 755 /etc/nginx/sites-enabled',
    'nginx -t',
    `rm -f ${PATH}`,
    'nginx -t',
  ]);
});

test('when nginx -t fails without the new file too, the message says the configuration was already broken', async () => {
  const t = new RecordingTransport('web1')
    .file(PATH, 'old\n')
    .when(`test -e ${PATH}`, {})
    .when('nginx -t', { code: 1, stderr: EMERG });
  await assert.rejects(writeNginxFile(ctx(t), 'web1', PATH, 'new\n'), /fails with and without the new/);
  const uploads = t.calls.filter((c) => c.kind === 'upload').map((c) => (c.kind === 'upload' ? String(c.content) : ''));
  assert.deepEqual(uploads, ['new\n', 'old\n']);
  assert.equal(t.lines.includes(RELOAD), false);
});

test('a reload that fails puts the previous file back', async () => {
  const t = new RecordingTransport('web1')
    .file(PATH, 'old\n')
    .when(`test -e ${PATH}`, {})
    .when('nginx -t', {})
    .when(PGREP, {})
    .when(RELOAD, { code: 1, stderr: 'nginx.service is not active, cannot reload.\n' });
  await assert.rejects(
    writeNginxFile(ctx(t), 'web1', PATH, 'new\n'),
    (e: Error & { code?: string }) => e.code === 'nginx-reload-failed' && /not active/.test(e.message),
  );
  const last = t.calls.at(-1);
  assert.equal(last?.kind === 'upload' ? last.content.toString() : last?.kind, 'old\n');
});

test('changes on one host are serialized: the second write starts after the first ended', async () => {
  const t = new RecordingTransport('web1')
    .when(/^test -e /, { code: 1 })
    .when(/^mkdir /, {})
    .when('nginx -t', {})
    .when(PGREP, {})
    .when(RELOAD, {});
  await Promise.all([
    writeNginxFile(ctx(t), 'web1', '/etc/nginx/ferry/a.conf', 'a'),
    writeNginxFile(ctx(t), 'web1', '/etc/nginx/ferry/b.conf', 'b'),
  ]);
  assert.deepEqual(
    t.calls.map((c) => (c.kind === 'upload' ? `upload ${c.path}` : c.kind === 'exec' ? c.line.split(' ')[0] : c.kind)),
    [
      'test',
      'mkdir',
      'upload /etc/nginx/ferry/a.conf',
      'nginx',
      'pgrep',
      'if',
      'test',
      'mkdir',
      'upload /etc/nginx/ferry/b.conf',
      'nginx',
      'pgrep',
      'if',
    ],
  );
});

test('nginxErrors keeps the lines that say what is wrong', () => {
  assert.equal(nginxErrors(EMERG), `[emerg] unknown directive "bogus" in ${PATH}:3`);
  assert.equal(nginxErrors('something else\n'), 'something else');
});

async function run(t: RecordingTransport, content: string | (() => Promise<string>)) {
  const events: RunEvent[] = [];
  const step = nginxFileStep({ id: 'shop/proxy/site', host: 'web1', path: PATH, content });
  const summary = await runPlan(makePlan([step]), {
    transports: () => t,
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
  });
  return { summary, events, step };
}

test('nginxFileStep: an unchanged file is ok after one command', async () => {
  const t = new RecordingTransport('web1').when(`sha256sum ${PATH}`, { stdout: `${sha('same\n')}  ${PATH}\n` });
  const { summary } = await run(t, async () => 'same\n');
  assert.deepEqual(summary.outcomes, { 'shop/proxy/site': 'ok' });
  assert.deepEqual(t.lines, [`sha256sum ${PATH}`]);
});

test('nginxFileStep: a new file is created, verified by hash and nginx -t, and its doc lists the commands', async () => {
  const t = new RecordingTransport('web1')
    .when(`sha256sum ${PATH}`, { code: 1, stderr: `sha256sum: ${PATH}: No such file or directory\n` }, { times: 1 })
    .when(`sha256sum ${PATH}`, { stdout: `${sha('new\n')}  ${PATH}\n` })
    .when(`test -e ${PATH}`, { code: 1 })
    .when(/^mkdir /, {})
    .when('nginx -t', {})
    .when(PGREP, {})
    .when(RELOAD, {});
  const { summary, events, step } = await run(t, 'new\n');
  assert.deepEqual(summary.outcomes, { 'shop/proxy/site': 'changed' });
  const checked = events.find((e) => e.kind === 'step-checked');
  assert.deepEqual(checked?.kind === 'step-checked' ? checked.change : undefined, { summary: `${PATH}: create` });
  assert.deepEqual(t.lines.slice(-2), [`sha256sum ${PATH}`, 'nginx -t']);
  assert.deepEqual(step.doc().commands, [
    `sha256sum ${PATH}`,
    `test -e ${PATH}`,
    `mkdir -p -m 700 /etc/nginx/ferry/previous && cp -p ${PATH} ${COPY}`,
    'nginx -t',
    PGREP,
    RELOAD,
  ]);
});

test('nginxFileStep: a refused change fails with nginx-config-invalid and there is nothing left to roll back', async () => {
  const t = new RecordingTransport('web1')
    .file(PATH, 'old\n')
    .when(`sha256sum ${PATH}`, { stdout: `${sha('old\n')}  ${PATH}\n` })
    .when(`test -e ${PATH}`, {})
    .when(`mkdir -p -m 700 /etc/nginx/ferry/previous && cp -p ${PATH} ${COPY}`, {})
    .when('nginx -t', { code: 1, stderr: EMERG }, { times: 1 })
    .when('nginx -t', {});
  const { summary, events } = await run(t, 'bogus;\n');
  assert.deepEqual(summary.outcomes, { 'shop/proxy/site': 'failed' });
  const end = events.find((e) => e.kind === 'step-end');
  assert.equal(end?.kind === 'step-end' ? end.error?.code : undefined, 'nginx-config-invalid');
  assert.equal(t.lines.includes(RELOAD), false);
  assert.equal(t.calls.filter((c) => c.kind === 'upload').length, 2);
  // Rollback found the file as it was: nothing written after the restore.
  assert.deepEqual(t.lines.slice(-1), [`sha256sum ${PATH}`]);
});

/** A host with nginx whose `nginx -t` passes, whose workers get new pids at every look. */
function nginxHost(files: Record<string, string> = {}) {
  let pid = 100;
  return new FileHost('web1', files)
    .when('nginx -t', {})
    .when(PGREP, () => ({ stdout: `${++pid}\n` }))
    .when(RELOAD, {});
}

const siteStep = () => nginxFileStep({ id: 'shop/proxy/site', host: 'web1', path: PATH, content: 'new\n', sudo: true });
const reloaded = [PGREP, RELOAD, PGREP];

test('nginxFileStep over an existing file: the lines of check, apply (a copy kept first), verify and rollback from the copy', async () => {
  const t = nginxHost({ [PATH]: 'old\n' });
  const step = siteStep();
  const checked = await step.check(testContext(t));
  assert.deepEqual(checked.observed, { existed: true, hash: sha('old\n'), content: 'new\n' });
  assert.deepEqual(
    checked.change?.summary,
    `${PATH}: sha256 ${sha('old\n').slice(0, 12)}… -> ${sha('new\n').slice(0, 12)}…`,
  );
  assert.deepEqual(t.take(), [`sha256sum ${PATH}`]);
  await step.apply(testContext(t), checked.observed!);
  assert.deepEqual(t.take(), [
    `test -e ${PATH}`,
    `download ${PATH}`,
    `mkdir -p -m 700 /etc/nginx/ferry/previous && cp -p ${PATH} ${COPY}`,
    `upload ${PATH} 644 "new\\n"`,
    'nginx -t',
    ...reloaded,
  ]);
  assert.deepEqual(await step.verify(testContext(t), checked.observed!), { ok: true });
  assert.deepEqual(t.take(), [`sha256sum ${PATH}`, 'nginx -t']);
  await step.rollback(testContext(t), checked.observed!);
  assert.deepEqual(t.take(), [
    `sha256sum ${PATH}`,
    `sha256sum ${COPY}`,
    `download ${COPY}`,
    `test -e ${PATH}`,
    `download ${PATH}`,
    `upload ${PATH} 644 "old\\n"`,
    'nginx -t',
    ...reloaded,
  ]);
  assert.equal(t.fs.get(PATH), 'old\n');
  assert.ok(t.calls.every((c) => c.sudo));
});

test('nginxFileStep over no file: rollback removes it through nginx -t and a reload; a second rollback does nothing', async () => {
  const t = nginxHost();
  const step = siteStep();
  const checked = await step.check(testContext(t));
  assert.deepEqual(checked.observed, { existed: false, hash: null, content: 'new\n' });
  assert.deepEqual(checked.change, { summary: `${PATH}: create` });
  await step.apply(testContext(t), checked.observed!);
  assert.deepEqual(t.take().slice(1), [
    `test -e ${PATH}`,
    'mkdir -p -m 755 /etc/nginx/sites-enabled',
    `upload ${PATH} 644 "new\\n"`,
    'nginx -t',
    ...reloaded,
  ]);
  await step.rollback(testContext(t), checked.observed!);
  assert.deepEqual(t.take(), [
    `sha256sum ${PATH}`,
    `test -e ${PATH}`,
    `download ${PATH}`,
    `rm -f ${PATH}`,
    'nginx -t',
    ...reloaded,
  ]);
  await step.rollback(testContext(t), checked.observed!);
  assert.deepEqual(t.take(), [`sha256sum ${PATH}`]);
  assert.equal(t.fs.has(PATH), false);
});

test('nginxFileStep resumed after a kill past the write: the state before comes from prior and the copy is kept as it was', async () => {
  // The killed run copied "old" and wrote "half"; the resumed run must still undo to "old".
  const t = nginxHost({ [PATH]: 'half\n', [COPY]: 'old\n' });
  const step = siteStep();
  const prior: NginxFileObserved = { existed: true, hash: sha('old\n'), content: '[redacted]' };
  const ctx = testContext(t, { prior });
  const checked = await step.check(ctx);
  assert.deepEqual(checked.observed, { existed: true, hash: sha('old\n'), content: 'new\n' });
  await step.apply(ctx, checked.observed!);
  const applied = t.take();
  assert.deepEqual(applied.slice(0, 4), [
    `sha256sum ${PATH}`,
    `sha256sum ${PATH}`,
    `test -e ${PATH}`,
    `download ${PATH}`,
  ]);
  assert.equal(
    applied.some((l) => l.includes('cp -p')),
    false,
  );
  await step.rollback(ctx, checked.observed!);
  assert.equal(t.fs.get(PATH), 'old\n');
});

test('nginxFileStep rollback refuses, changing nothing, when the copy is not the file as it was', async () => {
  const t = nginxHost({ [PATH]: 'new\n', [COPY]: 'something else\n' });
  const observed: NginxFileObserved = { existed: true, hash: sha('old\n'), content: 'new\n' };
  await assert.rejects(
    siteStep().rollback(testContext(t), observed),
    (e: Error & { code?: string }) => e.code === 'rollback-impossible' && e.message.includes(COPY),
  );
  assert.deepEqual(t.take(), [`sha256sum ${PATH}`, `sha256sum ${COPY}`]);
});

test('nginxFileStep with a permission problem: nginx -t as a user without sudo fails as permission-denied, the file put back', async () => {
  const t = new FileHost('web1', { [PATH]: 'old\n' }).when('nginx -t', {
    code: 1,
    stderr:
      'nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied)\n',
  });
  const step = nginxFileStep({ id: 'shop/proxy/site', host: 'web1', path: PATH, content: 'new\n' });
  const checked = await step.check(testContext(t));
  await assert.rejects(
    step.apply(testContext(t), checked.observed!),
    (e: Error & { code?: string }) =>
      e.code === 'permission-denied' && e.message.startsWith('web1: nginx -t fails with and without'),
  );
  assert.equal(t.fs.get(PATH), 'old\n');
});
