import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redactor } from '../core/redact.js';
import { makePlan } from '../engine/plan.js';
import { runPlan } from '../engine/run.js';
import type { RunEvent } from '../engine/events.js';
import { RecordingTransport } from '../transport/recording.js';
import { nginxErrors, nginxFileStep, writeNginxFile } from './nginx-file.js';

const PATH = '/etc/nginx/sites-enabled/ferry-shop.conf';
const RELOAD = 'if [ -d /run/systemd/system ]; then systemctl reload nginx; else nginx -s reload; fi';
const PGREP = "pgrep -f '[n]ginx: worker process *$' 2>/dev/null";
const EMERG =
  'nginx: [emerg] unknown directive "bogus" in /etc/nginx/sites-enabled/ferry-shop.conf:3\nnginx: configuration file /etc/nginx/nginx.conf test failed\n';
const ctx = (t: RecordingTransport) => ({ transport: t, redactor: new Redactor() });
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
        `web1: nginx refused the new ${PATH}; the previous file was put back and nginx was not reloaded:\n[emerg] unknown directive "bogus" in ${PATH}:3`,
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
  assert.deepEqual(step.doc().commands, [`sha256sum ${PATH}`, `test -e ${PATH}`, 'nginx -t', PGREP, RELOAD]);
});

test('nginxFileStep: a refused change fails with nginx-config-invalid and there is nothing left to roll back', async () => {
  const t = new RecordingTransport('web1')
    .file(PATH, 'old\n')
    .when(`sha256sum ${PATH}`, { stdout: `${sha('old\n')}  ${PATH}\n` })
    .when(`test -e ${PATH}`, {})
    .when('nginx -t', { code: 1, stderr: EMERG }, { times: 1 })
    .when('nginx -t', {});
  const { summary, events } = await run(t, 'bogus;\n');
  assert.deepEqual(summary.outcomes, { 'shop/proxy/site': 'failed' });
  const end = events.find((e) => e.kind === 'step-end');
  assert.equal(end?.kind === 'step-end' ? end.error?.code : undefined, 'nginx-config-invalid');
  assert.equal(t.lines.includes(RELOAD), false);
  assert.equal(t.calls.filter((c) => c.kind === 'upload').length, 2);
});
