/**
 * Backups to a restic REST server on the test bed: Debian's `restic-rest-server` on host2
 * (its packaged systemd unit, basic authentication from its .htpasswd), a stack with
 * Postgres and a volume on host1. A run by hand and one scheduled on the server write to
 * it, a drill proves every row and file, a restore brings deleted rows back; a wrong
 * password is `backup-repository-unauthorized` and a stopped server
 * `backup-repository-unreachable`; neither password appears in any output, the journal,
 * the process list on host1, or anywhere but the mode-600 file restic reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import type { RecoverReport } from '../../src/cli/recover.js';
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
import { Dnsmasq, writeHook } from './dnsmasq.js';
import { httpGet } from './deploy-stack.js';
import { cleanStack } from './migrate-stack.js';

const STACK = 'tbrest';
const REST_CANARY = 'canary-rest-5e2f9a71';
const RESTIC_CANARY = 'canary-restic-rest-83c1d0b4';
const DB_CANARY = 'canary-db-rest-46ab7e22';
const CANARIES = [REST_CANARY, RESTIC_CANARY, DB_CANARY, encodeURIComponent(REST_CANARY)];
const DATA = '/srv/ferry-rest';
const PORT = 8000;
const ROWS = 500;
const DOMAIN = `${STACK}.ferry.test`;

const COMPOSE = `services:
${PG_SERVICE}  web:
    image: ferry-tb-app:1
    volumes: [uploads:/srv/uploads]
    restart: unless-stopped
    mem_limit: 64m
volumes:
  db-data: {}
  uploads: {}
`;

/** Debian's rest-server on `h`, as its package installs it: data in DATA, one user (`tbrest`) in its .htpasswd. */
function restServer(h: TestbedHost): void {
  const sha = createHash('sha1').update(REST_CANARY).digest('base64');
  onHost(
    h,
    'export DEBIAN_FRONTEND=noninteractive; command -v restic-rest-server >/dev/null || ' +
      '{ apt-get update -qq && apt-get install -y -qq --no-install-recommends restic-rest-server >/dev/null; } && ' +
      `install -d -o restic-rest-server -g restic-rest-server -m 750 ${DATA} && ` +
      `sed -i 's|^#\\?BACKUP_DIR = .*|BACKUP_DIR = ${DATA}/|' /etc/default/restic-rest-server && ` +
      `install -o root -g restic-rest-server -m 640 /dev/stdin /etc/restic-rest-server/users.htpasswd && ` +
      'systemctl restart restic-rest-server && ' +
      `for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/${PORT}) 2>/dev/null && exit 0; sleep 0.2; done; exit 1`,
    `${STACK}:{SHA}${sha}\n`,
  );
}

function clean(h1: TestbedHost, h2: TestbedHost, spare: TestbedHost): void {
  for (const h of [h1, spare]) {
    cleanStack(h, STACK, ['db-data', 'uploads']);
    onHost(
      h,
      `ids=$(docker ps -aq --filter label=ferry-drill=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
        `systemctl disable --now ferry-backup-${STACK}.timer ferry-check-${STACK}.timer >/dev/null 2>&1; systemctl reset-failed ferry-backup-${STACK}.service ferry-check-${STACK}.service >/dev/null 2>&1; ` +
        `rm -rf /etc/ferry/backup/${STACK}.* /etc/systemd/system/ferry-backup-${STACK}.* /etc/systemd/system/ferry-check-${STACK}.* /var/tmp/ferry-drill-${STACK} ` +
        `/var/lib/ferry/textfile/ferry_*_${STACK}_*.prom /var/lib/ferry/restore/${STACK}.json; systemctl daemon-reload; true`,
    );
  }
  onHost(h2, `rm -rf ${DATA}/${STACK}; true`);
}

function writeStack(dir: string, h1: TestbedHost, h2: TestbedHost, spare: TestbedHost, schedule?: string): void {
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${DB_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      ...[h1, spare].map((h) => serverLine(h)),
      'stacks:',
      ...stackLines(STACK, h1.name, '60s'),
      `    proxy: { domains: [${DOMAIN}], tls: none, routes: [{ service: web, port: 8000 }] }`,
      '    backups:',
      '      password: { env: FERRY_BACKUP_PASSWORD }',
      '      repositories:',
      `        - name: vault`,
      `          rest: { url: "http://${h2.host}:${PORT}/${STACK}/", user: ${STACK}, password: { env: TBREST_REST_PASSWORD } }`,
      ...(schedule ? [`      schedule: "${schedule}"`, '      check: "*-*-* 05:00"', '      check_read: 100%'] : []),
      '',
    ].join('\n'),
  );
}

const rows = (h: TestbedHost): number => itemRows(h, STACK);

function fillData(h1: TestbedHost): void {
  fillItems(h1, STACK, ROWS);
  onHost(
    h1,
    `cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${STACK}_uploads)" && for i in $(seq 1 20); do echo "file $i" > "f $i.txt"; done`,
  );
}

/** ferry-gone.yml: ferry.yml with host1 unreachable, and DNS read from `ns` and changed by `hook`. */
function writeGone(dir: string, h1: TestbedHost, ns: Dnsmasq, hook: string): void {
  const gone = readFileSync(join(dir, 'ferry.yml'), 'utf8').replace(
    `  ${h1.name}: { host: ${h1.host}, user: ${h1.user}, port: ${h1.port},`,
    `  ${h1.name}: { host: 127.0.0.1, user: ${h1.user}, port: 9,`,
  );
  assert.ok(gone.includes('port: 9,'));
  writeFileSync(join(dir, 'ferry-gone.yml'), `${gone}dns: { hook: ${hook}, resolvers: ["${ns.server}"], wait: 20s }\n`);
}

/** A record the hook cannot move (it points at neither server) stops the recovery before anything is deployed. */
async function refusedForDns(
  dir: string,
  h1: TestbedHost,
  spare: TestbedHost,
  run: (args: string[]) => Promise<Transcript>,
): Promise<void> {
  const ns = await Dnsmasq.start(`198.51.100.7 ${DOMAIN}\n`, DOMAIN);
  const hook = writeHook(ns);
  try {
    writeGone(dir, h1, ns, hook.hook);
    const r = await run(['recover', STACK, '--to', spare.name, '--yes', '-f', 'ferry-gone.yml']);
    assert.equal(r.code, 2, r.err + r.out);
    assert.match(r.err, /error dns-preflight-failed: .*dns-hook-wrong-record: .*\n.*\n\s+hint: Nothing was changed\./);
    const there = onHost(spare, `docker ps -aq --filter label=com.docker.compose.project=${STACK} | wc -l`).trim();
    assert.equal(there, '0', 'nothing deployed on the spare');
  } finally {
    await ns.stop();
    rmSync(hook.dir, { recursive: true, force: true });
  }
}

/** The stack recovered on the spare with its own server unreachable, from the REST server; the domain moved by the hook. */
async function recoveredWithDns(
  dir: string,
  h1: TestbedHost,
  spare: TestbedHost,
  run: (args: string[]) => Promise<Transcript>,
): Promise<void> {
  await refusedForDns(dir, h1, spare, run);
  // The domain points at the lost server (127.0.0.1 in the fleet file the recovery reads).
  const ns = await Dnsmasq.start(`127.0.0.1 ${DOMAIN}\n`, DOMAIN);
  const hook = writeHook(ns);
  try {
    writeGone(dir, h1, ns, hook.hook);
    const r = await run(['recover', STACK, '--to', spare.name, '--yes', '--json', '-f', 'ferry-gone.yml']);
    assert.equal(r.code, 0, r.err + r.out);
    const report = JSON.parse(r.out) as RecoverReport;
    assert.equal(report.to, spare.name);
    assert.equal(report.restore.repository, 'vault');
    assert.equal(rows(spare), ROWS);
    assert.equal(onHost(spare, `stat -c '%a' /etc/ferry/backup/${STACK}.repo-vault`).trim(), '600');
    assert.equal(report.dns_moved?.changed, 1, r.err);
    assert.deepEqual(report.dns, [{ domain: DOMAIN, pending: [] }]);
    assert.equal(readFileSync(ns.hostsFile, 'utf8'), `${spare.host} ${DOMAIN}\n`);
    assert.equal((await httpGet(spare.host, DOMAIN, '/')).status, 200);
    const again = await run(['recover', STACK, '--to', spare.name, '--yes', '--json', '-f', 'ferry-gone.yml']);
    assert.equal(again.code, 0, again.err + again.out);
    assert.equal((JSON.parse(again.out) as RecoverReport).dns_moved?.changed, 0);
  } finally {
    await ns.stop();
    rmSync(hook.dir, { recursive: true, force: true });
  }
}

/** A pack of the REST repository damaged on host2: the scheduled check fails, and status and check --live say so. */
async function damagedPackFailsCheck(
  h1: TestbedHost,
  h2: TestbedHost,
  run: (args: string[]) => Promise<Transcript>,
): Promise<void> {
  onHost(
    h2,
    `f=$(find ${DATA}/${STACK}/data -type f | head -n 1); printf 'ferry-damage' | dd of="$f" bs=1 seek=64 conv=notrunc status=none`,
  );
  const checked = startJob(h1, STACK, 'check');
  assert.equal(checked.result, 'exit-code', checked.journal);
  assert.match(checked.journal, /check of vault FAILED/);
  const status = await run(['backup', 'status', STACK, '--json']);
  assert.equal(status.code, 1, status.out);
  const row = (JSON.parse(status.out) as { schedules: { check?: { problem?: string } }[] }).schedules[0];
  assert.match(row?.check?.problem ?? '', /^the last scheduled check failed \(exit-code, /);
  const live = await run(['check', '--live']);
  assert.match(live.out + live.err, /the last scheduled check of tbrest's repositories on host1 failed/);
}

describe(
  'backups to a restic REST server, on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up' },
  () => {
    const hosts = testbedHosts('debian-13');
    // The stack on host1, the REST server on host2, host6 (Debian 12, restic 0.14) the spare a recovery goes to.
    const [h1, h2, spare] = [hosts[0]!, hosts[1]!, testbedHosts('debian-12')[0]!];
    const dir = mkdtempSync(join(tmpdir(), 'ferry-rest-'));
    const state = join(dir, 'state');
    const outputs: string[] = [];
    const env = { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: RESTIC_CANARY, TBREST_REST_PASSWORD: REST_CANARY };
    const run = async (args: string[], extra: Record<string, string> = {}): Promise<Transcript> => {
      const t = await ferry([...args, '--known-hosts', paths.knownHosts], { cwd: dir, env: { ...env, ...extra } });
      outputs.push(t.out, t.err);
      return t;
    };

    before(async () => {
      clean(h1, h2, spare);
      restServer(h2);
      for (const h of [h1, spare]) loadImages(h, ['ferry-tb-postgres:1', 'ferry-tb-app:1']);
      writeStack(dir, h1, h2, spare);
      const applied = await run(['apply', STACK, '--yes']);
      assert.equal(applied.code, 0, applied.err + applied.out);
      fillData(h1);
    });
    after(() => {
      if (!process.env.FERRY_KEEP_HOSTS) clean(h1, h2, spare);
    });

    test('a run writes into the REST server, whose URL with the credentials is only in a mode-600 file; a drill proves it', async () => {
      const ps = watchProcesses([h1]);
      const r = await run(['backup', 'run', STACK]);
      outputs.push(await ps.stop());
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.err, new RegExp(`backup/repository-file/vault \\(the address of repository vault .*\\): changed`));
      assert.match(r.out, /written to vault/);
      assert.equal(
        onHost(h1, `stat -c '%a %U' /etc/ferry/backup/${STACK}.repo-vault`).trim(),
        '600 root',
        'the credentials file',
      );
      assert.equal(onHost(h2, `test -f ${DATA}/${STACK}/config && echo there`).trim(), 'there');
      const drill = await run(['backup', 'drill', STACK, '--json']);
      assert.equal(drill.code, 0, drill.err + drill.out);
      assert.deepEqual(drillProofs(drill.out), ['postgres db public.items', 'release', 'volume uploads']);
      const again = await run(['backup', 'run', STACK]);
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, /backup\/repository-file\/vault .*: ok/);
    });

    test('the server backs up and checks the repository by itself through the same file, also after ferry apply', async () => {
      writeStack(dir, h1, h2, spare, '*-*-* 03:00');
      const installed = await run(['backup', 'run', STACK]);
      assert.equal(installed.code, 0, installed.err);
      const before = await run(['backup', 'list', STACK, '--json']);
      const count = (t: Transcript) =>
        (JSON.parse(t.out).runs as { complete: boolean }[]).filter((x) => x.complete).length;
      // ferry apply keeps the schedule in step without reading the REST password: restic still reads the file.
      const applied = await run(['apply', STACK, '--yes']);
      assert.equal(applied.code, 0, applied.err);
      assert.equal(startJob(h1, STACK, 'backup').result, 'success');
      const listed = await run(['backup', 'list', STACK, '--json']);
      assert.equal(count(listed), count(before) + 1, listed.out);
      const checked = startJob(h1, STACK, 'check');
      assert.equal(checked.result, 'success', checked.journal);
      assert.match(checked.journal, /check of vault \(100% of its packs read\): no errors/);
      const status = await run(['backup', 'status', STACK, '--json']);
      assert.equal(status.code, 0, status.out + status.err);
    });

    test('rows deleted after the backup come back with a restore from the REST server, proven', async () => {
      onHost(
        h1,
        `docker exec ${containerOf(STACK, 'db')} psql -q -U shop -d shop -c 'DELETE FROM items WHERE id > 100'`,
      );
      assert.equal(rows(h1), 100);
      const r = await run(['restore', STACK, '--yes', '--json']);
      assert.equal(r.code, 0, r.err + r.out);
      assert.deepEqual((JSON.parse(r.out) as { restored: string[] }).restored, ['postgres db']);
      assert.equal(rows(h1), ROWS);
    });

    test("recover onto another server while the stack's own is gone: from the REST server, every row back, DNS moved by the hook", async () => {
      await recoveredWithDns(dir, h1, spare, run);
    });

    test('a wrong REST password is backup-repository-unauthorized; a stopped server backup-repository-unreachable', async () => {
      const wrong = await run(['backup', 'run', STACK], { TBREST_REST_PASSWORD: `${REST_CANARY}-not` });
      assert.equal(wrong.code, 1, wrong.err);
      assert.match(
        wrong.err,
        /error backup-repository-unauthorized: [^]*?401 Unauthorized\n\s+at host host1\n\s+hint: The REST server refuses/,
      );
      onHost(h2, 'systemctl stop restic-rest-server');
      try {
        const down = await run(['backup', 'run', STACK]);
        assert.equal(down.code, 1, down.err);
        // The scheduled run says so at once too, and fails.
        const scheduled = startJob(h1, STACK, 'backup');
        assert.equal(scheduled.result, 'exit-code', scheduled.journal);
        assert.ok(
          scheduled.journal.includes(`vault: the server at ${h2.host}:${PORT} cannot be reached`),
          scheduled.journal,
        );
        assert.match(
          down.err,
          new RegExp(
            `error backup-repository-unreachable: host1 cannot reach the REST server of repository vault at ${h2.host.replace(/\./g, '\\.')}:${PORT}`,
          ),
        );
      } finally {
        onHost(h2, 'systemctl start restic-rest-server');
      }
      const back = await run(['backup', 'run', STACK]);
      assert.equal(back.code, 0, back.err);
    });

    test('a damaged pack fails the scheduled check; backup status and check --live say so', async () => {
      await damagedPackFailsCheck(h1, h2, run);
    });

    test('no password appears in any output, the journal, the process list, or a file shown to the user', () => {
      const journal = filesUnder(state).map((f) => readFileSync(f).toString('latin1'));
      const shown = onHost(
        h1,
        `cat /etc/ferry/backup/${STACK}.json /etc/systemd/system/ferry-backup-${STACK}.* /etc/systemd/system/ferry-check-${STACK}.*`,
      );
      for (const text of [...outputs, ...journal, shown])
        for (const c of CANARIES) assert.equal(text.includes(c), false, `${c} leaked: ${text.slice(0, 300)}`);
    });
  },
);
