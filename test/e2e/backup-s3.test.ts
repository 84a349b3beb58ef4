/**
 * Backups to an S3-compatible bucket on the test bed: s3rver (an S3 API server in Node)
 * on this machine's address on the test bed's network, over TLS with its own CA (restic
 * signs its uploads in chunks over plain HTTP, which s3rver stores as they come), the CA
 * trusted on host3 as a private one would be. A stack with Postgres, a volume and the data
 * of a bind mount on host3: a run by hand and one scheduled on the server write to the
 * bucket, a drill proves every row and file; an unknown key is
 * `backup-repository-unauthorized` in seconds and a stopped endpoint
 * `backup-repository-unreachable`; the secret key appears in no output, journal, process
 * list, or file but the mode-600 file restic reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import {
  containerOf,
  loadImages,
  onHost,
  testbedHosts,
  testbedIsUp,
  watchProcesses,
  type TestbedHost,
  serverLine,
  stackLines,
} from './helpers.js';
import { PG_SERVICE, drillProofs, filesUnder, fillItems, itemRows, startJob } from './backup-compose.js';
import { cleanStack } from './migrate-stack.js';

const STACK = 'tbs3';
const KEY_ID = 'S3RVER';
const SECRET_CANARY = 'canary-s3-secret-7d1e40b9';
const RESTIC_CANARY = 'canary-restic-s3-2a9f5c11';
const DB_CANARY = 'canary-db-s3-93b0e6d4';
const CANARIES = [SECRET_CANARY, RESTIC_CANARY, DB_CANARY];
const BUCKET = 'ferry-tb';
const ROWS = 300;
const CA = '/usr/local/share/ca-certificates/ferry-tb-s3.crt';
const S3RVER = fileURLToPath(new URL('../../node_modules/.bin/s3rver', import.meta.url));

const COMPOSE = `services:
${PG_SERVICE}  web:
    image: ferry-tb-app:1
    entrypoint: [sleep, infinity]
    volumes: [uploads:/srv/uploads, ./media:/srv/media]
    restart: unless-stopped
    mem_limit: 64m
volumes:
  db-data: {}
  uploads: {}
`;

/** A TCP port free on this machine now. */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** The address of this machine on the test bed's network: the hosts reach it there. */
const gateway = (): string =>
  execFileSync('docker', ['network', 'inspect', 'ferry-tb-net', '-f', '{{(index .IPAM.Config 0).Gateway}}'], {
    encoding: 'utf8',
  }).trim();

/** s3rver over TLS on `address`, with a certificate for it made here; stopped by `stop`. */
async function s3rver(dir: string, address: string, port: number): Promise<{ cert: string; stop: () => void }> {
  const key = join(dir, 's3.key');
  const cert = join(dir, 's3.crt');
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=ferry-tb-s3',
    '-addext',
    `subjectAltName=IP:${address}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  const child: ChildProcess = spawn(
    S3RVER,
    ['-d', join(dir, 'data'), '-a', address, '-p', String(port), '--key', key, '--cert', cert, '-s'].concat([
      '--configure-bucket',
      BUCKET,
    ]),
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('bash', ['-c', `exec 3<>/dev/tcp/${address}/${port}`], { stdio: 'ignore' });
      return { cert: readFileSync(cert, 'utf8'), stop: () => child.kill('SIGKILL') };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('s3rver did not listen');
}

function clean(h: TestbedHost): void {
  cleanStack(h, STACK, ['db-data', 'uploads']);
  onHost(
    h,
    `ids=$(docker ps -aq --filter label=ferry-drill=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `systemctl disable --now ferry-backup-${STACK}.timer >/dev/null 2>&1; systemctl reset-failed ferry-backup-${STACK}.service >/dev/null 2>&1; ` +
      `rm -rf /etc/ferry/backup/${STACK}.* /etc/systemd/system/ferry-backup-${STACK}.* /var/tmp/ferry-drill-${STACK} ` +
      `/var/lib/ferry/textfile/ferry_*_${STACK}_*.prom ${CA}; update-ca-certificates --fresh >/dev/null 2>&1; systemctl daemon-reload; true`,
  );
}

function writeStack(dir: string, h: TestbedHost, url: string, schedule?: string): void {
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${DB_CANARY}\n`);
  writeFileSync(join(dir, 's3.key'), `${SECRET_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(h),
      'stacks:',
      ...stackLines(STACK, h.name, '60s'),
      '    backups:',
      '      password: { env: FERRY_BACKUP_PASSWORD }',
      '      repositories:',
      '        - name: bucket',
      `          s3: { url: "${url}", access_key_id: { env: TBS3_KEY_ID }, secret_access_key: { file: s3.key }, region: us-east-1 }`,
      ...(schedule ? [`      schedule: "${schedule}"`] : []),
      '',
    ].join('\n'),
  );
}

const rows = (h: TestbedHost): number => itemRows(h, STACK);

function fillData(h: TestbedHost): void {
  fillItems(h, STACK, ROWS);
  onHost(
    h,
    `cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${STACK}_uploads)" && for i in $(seq 1 12); do echo "file $i" > "f $i.txt"; done; ` +
      `cd /srv/ferry/${STACK}/shared/media && for i in 1 2 3; do echo "cover $i" > "c$i.txt"; done`,
  );
}

describe(
  'backups to an S3-compatible bucket, on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up' },
  () => {
    const h = testbedHosts('debian-13')[2]!;
    const dir = mkdtempSync(join(tmpdir(), 'ferry-s3-'));
    const state = join(dir, 'state');
    const outputs: string[] = [];
    const env = { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: RESTIC_CANARY, TBS3_KEY_ID: KEY_ID };
    const run = async (args: string[], extra: Record<string, string> = {}): Promise<Transcript> => {
      const t = await ferry([...args, '--known-hosts', paths.knownHosts], { cwd: dir, env: { ...env, ...extra } });
      outputs.push(t.out, t.err);
      return t;
    };
    let server: { cert: string; stop: () => void } | undefined;
    let url = '';

    before(async () => {
      clean(h);
      const address = gateway();
      const port = await freePort();
      server = await s3rver(dir, address, port);
      onHost(h, `cat > ${CA} && update-ca-certificates >/dev/null 2>&1`, server.cert);
      url = `https://${address}:${port}/${BUCKET}/${STACK}`;
      loadImages(h, ['ferry-tb-postgres:1', 'ferry-tb-app:1']);
      writeStack(dir, h, url);
      const applied = await run(['apply', STACK, '--yes']);
      assert.equal(applied.code, 0, applied.err + applied.out);
      fillData(h);
    });
    after(() => {
      server?.stop();
      if (!process.env.FERRY_KEEP_HOSTS) clean(h);
    });

    test('a run writes into the bucket, whose keys are only in a mode-600 file; a drill proves every row and file', async () => {
      const ps = watchProcesses([h]);
      const r = await run(['backup', 'run', STACK]);
      outputs.push(await ps.stop());
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.err, /backup\/repository-file\/bucket \(the keys of bucket repository bucket, .*\): changed/);
      assert.equal(onHost(h, `stat -c '%a %U' /etc/ferry/backup/${STACK}.repo-bucket`).trim(), '600 root');
      const drill = await run(['backup', 'drill', STACK, '--json']);
      assert.equal(drill.code, 0, drill.err + drill.out);
      assert.deepEqual(drillProofs(drill.out), [
        'path ./media',
        'postgres db public.items',
        'release',
        'volume uploads',
      ]);
      const again = await run(['backup', 'run', STACK]);
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, /backup\/repository-file\/bucket .*: ok/);
    });

    test('the server backs up into the bucket by itself, through the same keys file; a restore brings rows back', async () => {
      writeStack(dir, h, url, '*-*-* 03:00');
      const installed = await run(['backup', 'run', STACK]);
      assert.equal(installed.code, 0, installed.err);
      const count = (t: Transcript) =>
        (JSON.parse(t.out).runs as { complete: boolean }[]).filter((x) => x.complete).length;
      const listed = await run(['backup', 'list', STACK, '--json']);
      const scheduled = startJob(h, STACK, 'backup');
      assert.equal(scheduled.result, 'success', scheduled.journal);
      assert.equal(count(await run(['backup', 'list', STACK, '--json'])), count(listed) + 1);
      onHost(h, `docker exec ${containerOf(STACK, 'db')} psql -q -U shop -d shop -c 'DELETE FROM items WHERE id > 10'`);
      const restored = await run(['restore', STACK, '--yes', '--json']);
      assert.equal(restored.code, 0, restored.err + restored.out);
      assert.equal(rows(h), ROWS);
    });

    test('an unknown key is backup-repository-unauthorized in seconds; a stopped endpoint backup-repository-unreachable', async () => {
      const started = Date.now();
      const wrong = await run(['backup', 'run', STACK], { TBS3_KEY_ID: 'NOPE' });
      assert.equal(wrong.code, 1, wrong.err);
      assert.match(
        wrong.err,
        /error backup-repository-unauthorized: [^]*?(Access Denied|does not exist in our records)[^]*?hint: The bucket refuses/,
      );
      assert.ok(Date.now() - started < 90_000, 'not restic’s minutes of retries');
      // The keys file on the server now holds the unknown key: the scheduled run says so as fast.
      const scheduled = startJob(h, STACK, 'backup');
      assert.equal(scheduled.result, 'exit-code', scheduled.journal);
      assert.match(
        scheduled.journal,
        /bucket: the bucket refuses its keys, or cannot be opened: .*(Access Denied|does not exist in our records)/,
      );
      server?.stop();
      const down = await run(['backup', 'drill', STACK]);
      assert.equal(down.code, 1, down.err);
      assert.match(
        down.err,
        /error backup-repository-unreachable: host3 cannot reach the S3 endpoint of repository bucket/,
      );
    });

    test('no secret appears in any output, the journal, the process list, or a file shown to the user', () => {
      const journal = filesUnder(state).map((f) => readFileSync(f).toString('latin1'));
      const shown = onHost(h, `cat /etc/ferry/backup/${STACK}.json /etc/systemd/system/ferry-backup-${STACK}.*`);
      for (const text of [...outputs, ...journal, shown])
        for (const c of CANARIES) assert.equal(text.includes(c), false, `${c} leaked: ${text.slice(0, 300)}`);
    });
  },
);
