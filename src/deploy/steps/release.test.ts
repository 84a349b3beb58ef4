import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Secret } from '../../core/secret.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { Bundle } from '../bundle.js';
import { metaText, type ReleaseMeta } from '../release-meta.js';
import { readCurrentManifest, releaseStep } from './release.js';
import { render } from '../../shell/command.js';

const DIR = '/srv/ferry/shop/releases/r2';
const PARTIAL = `${DIR}.partial`;
const EXISTS = `test -f ${DIR}/.ferry-manifest`;
const CURRENT_MANIFEST = render(readCurrentManifest('shop', ['.env', 'compose.yml', 'conf/app.ini']));
const CREATE = `rm -rf ${PARTIAL} && mkdir -p -m 700 ${PARTIAL} && mkdir -p -m 750 /srv/ferry/shop/shared`;
const LINK = `mkdir -p /srv/ferry/shop/shared/data ${PARTIAL} && ln -sfn /srv/ferry/shop/shared/data ${PARTIAL}/data`;
const RENAME = `test -d ${DIR} || mv -T ${PARTIAL} ${DIR}`;
const VERIFY = `cd ${DIR} && sha256sum --quiet -c .ferry-manifest`;
const UNDO_PARTIAL = `rm -rf ${PARTIAL}`;
const UNDO_DIR = `test '!' ${DIR} -ef /srv/ferry/shop/current && rm -rf ${DIR}`;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const bundle: Bundle = {
  id: 'r2',
  files: [
    { rel: '.env', content: new Secret('PASSWORD=pw-canary\n') },
    { rel: 'compose.yml', content: Buffer.from('services: {}\n') },
    { rel: 'conf/app.ini', content: Buffer.from('a=1\n') },
  ],
  composeFiles: ['compose.yml'],
  envFile: '.env',
  dataPaths: ['data'],
};
const meta: ReleaseMeta = { id: 'r2', project: 'shop', composeFiles: ['compose.yml'], services: [], envFile: '.env' };
const step = releaseStep({ id: 'shop/release', host: 'web1', stack: 'shop', bundle, meta, sudo: true, dependsOn: [] });
const show = (t: RecordingTransport) =>
  t.calls.map((c) =>
    c.kind === 'exec' ? c.line : `${c.kind} ${c.path}${c.kind === 'upload' ? ` ${c.mode.toString(8)}` : ''}`,
  );

test('release: written through .partial, renamed, verified by its manifest; rollback removes what it created', async () => {
  const t = new RecordingTransport('web1')
    .when(EXISTS, { code: 1 })
    .when(CURRENT_MANIFEST, { stdout: `${sha('services: {}\n')}  compose.yml\n${sha('x')}  old.txt\n` })
    .when(CREATE, {})
    .when(`mkdir -p -m 700 ${PARTIAL}/conf`, {})
    .when(LINK, {})
    .when(RENAME, {})
    .when(VERIFY, {})
    .when(UNDO_PARTIAL, {})
    .when(UNDO_DIR, {});
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'new release r2: + .env, + conf/app.ini, - old.txt' },
    observed: { existed: false },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(show(t), [
    EXISTS,
    CURRENT_MANIFEST,
    CREATE,
    `upload ${PARTIAL}/.env 600`,
    `upload ${PARTIAL}/compose.yml 600`,
    `mkdir -p -m 700 ${PARTIAL}/conf`,
    `upload ${PARTIAL}/conf/app.ini 600`,
    LINK,
    `upload ${PARTIAL}/.ferry-release.json 600`,
    `upload ${PARTIAL}/.ferry-manifest 600`,
    RENAME,
    VERIFY,
    UNDO_PARTIAL,
    UNDO_DIR,
  ]);
  const metaUpload = t.calls.find((c) => c.kind === 'upload' && c.path.endsWith('.ferry-release.json'));
  assert.equal(metaUpload?.kind === 'upload' && String(metaUpload.content), metaText(meta));
  assert.ok(t.calls.every((c) => c.sudo));
});

test('release: already there is ok after one command; on resume the killed run\'s "not there" is kept', async () => {
  const t = new RecordingTransport('web1').when(EXISTS, {}).when(UNDO_PARTIAL, {});
  assert.deepEqual(await step.check(testContext(t)), { needed: false, observed: { existed: true } });
  const resumed = await step.check(testContext(t, { prior: { existed: false } }));
  assert.deepEqual(resumed.observed, { existed: false });
  // A release that was there before is never removed by rollback.
  await step.rollback(testContext(t), { existed: true });
  assert.deepEqual(t.lines, [EXISTS, EXISTS, UNDO_PARTIAL]);
});

test('release: a directory that cannot be created is release-write-failed, its words redacted', async () => {
  const t = new RecordingTransport('web1').when(CREATE, {
    code: 1,
    stderr: 'mkdir: cannot create directory /srv/ferry/shop/pw-canary: Permission denied\n',
  });
  const ctx = testContext(t);
  ctx.redactor.add('pw-canary');
  await assert.rejects(step.apply(ctx, { existed: false }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'release-write-failed');
    assert.equal(
      e.message,
      `web1: creating ${PARTIAL}: failed (exit 1):\nmkdir: cannot create directory /srv/ferry/shop/[REDACTED]: Permission denied`,
    );
    return true;
  });
  assert.equal(
    t.calls.some((c) => c.kind === 'upload'),
    false,
  );
});
