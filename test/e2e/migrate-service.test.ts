/**
 * `ferry migrate STACK --service db --to SERVER` on the test bed: the demo stack on host1,
 * its Postgres moved alone to host2 (a database server) while a probe writes through
 * host1's nginx. Afterwards: every row there (the proof and the probe's acknowledged
 * writes), the app on host1 writing to host2, Postgres published on host2's address only,
 * reachable from host1 and not from host3 (DOCKER-USER, ufw, a systemd unit that puts the
 * rule back when Docker restarts), `ferry apply` with the placement in ferry.yml finding
 * nothing to change, and without it refusing; rollback. Bad input refused with nothing changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { httpGet } from './deploy-stack.js';
import { probe } from './probe.js';
import { cleanStack, demoCompose, ferryChild, writeMigrationStack } from './migrate-stack.js';
import { containerOf, loadImages, onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';

const STACK = 'tbsvc';
const DOMAIN = 'tbsvc.ferry.test';
const CANARY = 'canary-svc-7c2e91b4';
const UNIT = `ferry-firewall-${STACK}-db.service`;

/** The hosts, files and helpers every test of this file uses. */
function makeBed() {
  const hosts = testbedHosts();
  const [app, db, outsider] = [hosts[0]!, hosts[1]!, hosts[2]!];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-service-'));
  const state = join(dir, 'state');
  const run = (args: string[]): Promise<Transcript> =>
    ferry([...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state },
    });
  const psql = (h: TestbedHost, sql: string) =>
    onHost(h, `docker exec ${containerOf(STACK, 'db')} psql -U demo -d demo -At -c "${sql}"`).trim();
  const summary = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as { changed: number; failed: number };
  const reaches = (from: TestbedHost, to: string) =>
    onHost(from, `timeout 3 bash -c 'exec 3<>/dev/tcp/${to}/5432' && echo open || echo closed`).trim();
  const clean = (h: TestbedHost) => {
    cleanStack(h, STACK, ['db-data']);
    onHost(
      h,
      `systemctl disable --now ${UNIT} 2>/dev/null; rm -f /etc/systemd/system/${UNIT}; systemctl daemon-reload; ` +
        `while iptables -w -S DOCKER-USER | grep -q ferry-${STACK}-db; do iptables -w -D DOCKER-USER $(iptables -w -S DOCKER-USER | grep ferry-${STACK}-db | head -1 | sed 's/^-A DOCKER-USER //'); done; ` +
        `ufw delete allow proto tcp from ${app.host} to ${db.host} port 5432 comment 'ferry ${STACK}/db' >/dev/null 2>&1; true`,
    );
  };
  const files = { fleet: '' };
  /** A probe writing through host1's nginx, and a move of db killed (-9) once the dump is done: in the pause. */
  const movedKilledAfterDump = async () => {
    const p = probe(app.host, DOMAIN);
    assert.ok(await p.okAfter(Date.now(), 15_000), 'the probe writes before the move');
    const killed = await ferryChild(
      { dir, state },
      ['migrate', STACK, '--service', 'db', '--to', db.name, '--yes'],
      (line, kill) => {
        if (/✓ tbsvc\/migrate\/dump\/db /.test(line)) kill();
      },
    );
    assert.equal(killed.signal, 'SIGKILL', killed.err);
    return { p, killed };
  };
  return { hosts, app, db, outsider, dir, state, run, psql, summary, reaches, clean, movedKilledAfterDump, files };
}
type Bed = ReturnType<typeof makeBed>;

describe(
  'ferry migrate --service on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const b = makeBed();
    const { app, db, outsider, dir, reaches, clean } = b;

    before(() => {
      for (const h of [app, db]) clean(h);
      writeMigrationStack(dir, {
        stack: STACK,
        domain: DOMAIN,
        password: CANARY,
        compose: demoCompose({ volumes: [] }).replace('    volumes:\n      - files:/srv/files\n', ''),
        source: app,
        target: db,
      });
      b.files.fleet = readFileSync(join(dir, 'ferry.yml'), 'utf8');
      loadImages(app, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1']);
    });
    after(() => {
      if (!process.env.FERRY_KEEP_HOSTS) for (const h of [app, db]) clean(h);
    });

    test('deployed on host1 with data', () => deployedWithData(b));

    test('bad input is refused before anything changes: not a Postgres service, no such service, replicate', () =>
      badInputRefused(b));

    test('a move whose app cannot reach the database server fails and is rolled back: host1 serves from its own database, host2 keeps nothing running, its firewall gone', () =>
      unreachableMoveRolledBack(b));

    test("a move killed after the dump and rolled back without resuming: host1 serves from its own database with every write, host2's copy stopped, no marker or key left", () =>
      killedMoveRolledBack(b));

    test('db moved to host2 under a writing probe, killed (-9) after the dump and resumed: proven, every acknowledged write there, the app writing to it', () =>
      killedMoveResumed(b));

    test("the port is on host2's address only, and only host1 gets through: DOCKER-USER, ufw, and after a Docker restart", () => {
      assert.equal(onHost(db, `docker port ${containerOf(STACK, 'db')} 5432/tcp`).trim(), `${db.host}:5432`);
      assert.equal(reaches(app, db.host), 'open');
      assert.equal(reaches(outsider, db.host), 'closed');
      assert.match(
        onHost(db, 'ufw show added'),
        new RegExp(`ufw allow from ${app.host} to ${db.host} port 5432 proto tcp comment 'ferry ${STACK}/db'`),
      );
      assert.equal(onHost(db, `systemctl is-enabled ${UNIT}`).trim(), 'enabled');
      onHost(db, 'systemctl restart docker');
      onHost(
        db,
        `for i in $(seq 1 60); do [ "$(docker inspect -f '{{.State.Health.Status}}' ${containerOf(STACK, 'db')} 2>/dev/null)" = healthy ] && break; sleep 1; done`,
      );
      assert.match(
        onHost(db, 'iptables -w -S DOCKER-USER'),
        new RegExp(`! -s ${app.host}/32 .*--comment ferry-${STACK}-db -j DROP`),
      );
      assert.equal(onHost(db, `iptables -w -S DOCKER-USER | grep -c ferry-${STACK}-db`).trim(), '1');
      assert.equal(reaches(outsider, db.host), 'closed');
      assert.equal(reaches(app, db.host), 'open');
    });

    test('apply: refused while ferry.yml does not place db; with the placement, nothing to change', () =>
      applyRefusedUnplaced(b));

    test("rollback: db runs on host1 again with the writes it took on host2 carried back, host2's stopped with its data; apply with the placement then refused", () =>
      rollbackToApp(b));
  },
);

async function deployedWithData(b: Bed): Promise<void> {
  const { app, run, psql } = b;
  const t = await run(['apply', '--yes', '--json']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.equal((await httpGet(app.host, DOMAIN, '/health')).status, 200);
  psql(
    app,
    'CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk (payload) SELECT md5(g::text) FROM generate_series(1, 50000) g',
  );
}

async function badInputRefused(b: Bed): Promise<void> {
  const { app, db, run } = b;
  for (const [args, pattern] of [
    [['--service', 'worker'], /error usage: --service worker: only a Postgres service can be moved alone/],
    [['--service', 'dbb'], /error usage: --service dbb: stack tbsvc has no such service/],
    [['--service', 'db', '--mode', 'replicate'], /error usage: --service with --mode replicate/],
  ] as const) {
    const t = await run(['migrate', STACK, '--to', db.name, '--yes', ...args]);
    assert.equal(t.code, 2, t.err + t.out);
    assert.match(t.err, pattern);
  }
  assert.equal(onHost(db, `docker ps -aq --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(onHost(app, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '3');
}

async function unreachableMoveRolledBack(b: Bed): Promise<void> {
  const { app, db, run, psql } = b;
  // Something else on host2 drops everything to Postgres, the app's connections included.
  onHost(db, 'iptables -w -I DOCKER-USER -p tcp --dport 5432 -m comment --comment test-block -j DROP');
  // The stack's health_timeout is 60 s; in the pause, migrate.max_pause bounds the wait. Docker
  // cannot call web unhealthy before 11 s (a 5 s start period, then 3 failed checks 2 s apart).
  writeFileSync(
    join(b.dir, 'ferry.yml'),
    b.files.fleet.replace('    deploy:', '    migrate: { max_pause: 8s }\n    deploy:'),
  );
  try {
    const dry = await run(['migrate', STACK, '--service', 'db', '--to', db.name, '--dry-run']);
    assert.match(
      dry.out,
      /write pause: from tbsvc\/migrate\/freeze until tbsvc\/up is verified; every wait in it at most 8 s \(migrate.max_pause\)/,
    );
    const t = await run(['migrate', STACK, '--service', 'db', '--to', db.name, '--yes']);
    assert.equal(t.code, 1, t.err + t.out);
    assert.match(
      t.err,
      /✗ tbsvc\/up .*\n.*verify-failed: host1: tbsvc\/up: verification failed: release \w+ is not ready within 8 s: tbsvc[_-]web[_-]1 running \(starting\)/,
    );
    assert.match(t.err, /rolled back: .*tbsvc\/up.*tbsvc\/db\/firewall/);
  } finally {
    onHost(db, 'iptables -w -D DOCKER-USER -p tcp --dport 5432 -m comment --comment test-block -j DROP');
    writeFileSync(join(b.dir, 'ferry.yml'), b.files.fleet);
  }
  const health = await httpGet(app.host, DOMAIN, '/health');
  assert.equal(
    health.status,
    200,
    `${health.body}\n${onHost(app, `docker ps -a --format '{{.Names}} {{.Status}} {{.ID}}' | grep ${STACK}; cat /etc/nginx/ferry/${STACK}.upstreams.conf; docker inspect -f '{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $(docker ps -q --filter label=com.docker.compose.project=${STACK})`)}`,
  );
  assert.equal(Number(psql(app, 'SELECT count(*) FROM bulk')), 50000);
  assert.equal(onHost(db, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(onHost(db, `test -e /etc/systemd/system/${UNIT} && echo unit || echo none`).trim(), 'none');
  assert.doesNotMatch(onHost(db, 'iptables -w -S DOCKER-USER'), /ferry-tbsvc-db/);
  assert.doesNotMatch(onHost(db, 'ufw show added'), /ferry tbsvc\/db/);
  assert.equal(onHost(db, `test -e /srv/ferry/${STACK}/migration.json && echo report || echo none`).trim(), 'none');
}

async function killedMoveRolledBack(b: Bed): Promise<void> {
  const { app, db, run, psql, movedKilledAfterDump } = b;
  const { p, killed } = await movedKilledAfterDump();
  assert.equal(onHost(app, `cat /srv/ferry/${STACK}/migrating-to`).trim(), db.name);
  const t = await run(['rollback', STACK, '--yes']);
  const served = await p.okAfter(Date.now(), 30_000);
  const seen = await p.stop();
  assert.equal(t.code, 0, t.err + t.out);
  assert.match(
    t.err,
    /rolling back the unfinished run \S+ \(migrate tbsvc --service db --to host2\): taking over its locks/,
  );
  assert.ok(served, 'the probe has a write acknowledged after the rollback');
  // host2 never served: every acknowledged write is in host1's database.
  const here = Number(psql(app, 'SELECT count(*) FROM ferry_hits'));
  assert.ok(
    seen.acked.length > 0 && here >= Math.max(...seen.acked),
    `host1 has ${here} hits, the probe saw ${Math.max(...seen.acked)} acknowledged`,
  );
  assert.equal(Number(psql(app, 'SELECT count(*) FROM bulk')), 50000);
  assert.equal(onHost(db, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(onHost(app, `test -e /srv/ferry/${STACK}/migrating-to && echo marker || echo none`).trim(), 'none');
  assert.equal(
    onHost(db, `grep -cE ' ferry-migrate-${STACK}(-replica|-back)?$' /root/.ssh/authorized_keys || true`).trim(),
    '0',
  );
  assert.doesNotMatch(t.out + t.err + killed.err, new RegExp(CANARY), 'the password never shows');
}

async function killedMoveResumed(b: Bed): Promise<void> {
  const { app, db, run, psql, movedKilledAfterDump } = b;
  const { p, killed } = await movedKilledAfterDump();
  // Killed in the pause: the writers stopped, the source's database still there, the app not yet pointed at host2.
  assert.equal(
    onHost(
      app,
      `docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=web | wc -l`,
    ).trim(),
    '0',
  );
  const t = await run(['migrate', STACK, '--service', 'db', '--to', db.name, '--yes', '--json', '--resume']);
  const after = Date.now();
  const served = await p.okAfter(after, 30_000);
  const seen = await p.stop();
  assert.equal(t.code, 0, t.err + t.out);
  assert.ok(served, 'the probe has a write acknowledged after the move');
  assert.doesNotMatch(t.out + t.err + killed.err, new RegExp(CANARY), 'the password never shows');
  const r = JSON.parse(t.out.trim().split('\n').pop()!) as {
    downtime_ms: number | null;
    verified: { tables: { name: string; rows_source: number; checksum_match: boolean }[] };
  };
  assert.ok(
    r.verified.tables.length >= 3 && r.verified.tables.every((x) => x.checksum_match),
    JSON.stringify(r.verified),
  );
  assert.equal(r.verified.tables.find((x) => x.name === 'public.bulk')?.rows_source, 50000);
  const there = Number(psql(db, 'SELECT count(*) FROM ferry_hits'));
  assert.ok(
    seen.acked.length > 0 && there >= Math.max(...seen.acked),
    `host2 has ${there} hits, the probe saw ${Math.max(...seen.acked)} acknowledged`,
  );
  // The app on host1 writes to host2 now.
  const health = await httpGet(app.host, DOMAIN, '/health');
  assert.equal(health.status, 200, health.body);
  // The app's own health check writes too (every 2 s): at least this write is there.
  const hits = (JSON.parse(health.body) as { hits: number }).hits;
  assert.ok(
    hits > there && Number(psql(db, 'SELECT count(*) FROM ferry_hits')) >= hits,
    `the write answered with ${hits} hits is on host2`,
  );
  // host1 keeps the old data, not the container.
  assert.equal(
    onHost(
      app,
      `docker ps -aq --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=db | wc -l`,
    ).trim(),
    '0',
  );
  assert.equal(onHost(app, `docker volume ls -q --filter name=${STACK}_db-data`).trim(), `${STACK}_db-data`);
  console.log(
    `service move under probe, killed and resumed: ${seen.answers} requests, ${seen.failed.length} failed during the pause, longest gap ${seen.gap} ms`,
  );
}

async function applyRefusedUnplaced(b: Bed): Promise<void> {
  const { db, dir, run, summary } = b;
  const refused = await run(['apply', '--yes']);
  assert.equal(refused.code, 2, refused.err + refused.out);
  assert.match(refused.err, /tbsvc\/db runs on host2 \(with its data\), but ferry.yml does not place it there/);
  writeFileSync(
    join(dir, 'ferry.yml'),
    b.files.fleet.replace(
      `    project: ${STACK}\n`,
      `    project: ${STACK}\n    services: { db: { server: ${db.name} } }\n`,
    ),
  );
  const t = await run(['apply', '--yes', '--json']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.equal(summary(t.out).changed, 0, t.out);
  const again = await run(['migrate', STACK, '--service', 'db', '--to', db.name, '--yes']);
  assert.equal(again.code, 2, again.err + again.out);
  assert.match(again.err, /error usage: tbsvc\/db already runs on host2/);
}

async function rollbackToApp(b: Bed): Promise<void> {
  const { app, db, run, psql } = b;
  const hitsThere = Number(psql(db, 'SELECT count(*) FROM ferry_hits'));
  const t = await run(['rollback', STACK, '--yes']);
  assert.equal(t.code, 0, t.err + t.out);
  const health = await httpGet(app.host, DOMAIN, '/health');
  assert.equal(
    health.status,
    200,
    `${health.body}\n${onHost(app, `docker ps -a --format '{{.Names}} {{.Status}} {{.ID}}' | grep ${STACK}; cat /etc/nginx/ferry/${STACK}.upstreams.conf; docker inspect -f '{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $(docker ps -q --filter label=com.docker.compose.project=${STACK})`)}`,
  );
  assert.equal(Number(psql(app, 'SELECT count(*) FROM bulk')), 50000);
  assert.ok(
    Number(psql(app, 'SELECT count(*) FROM ferry_hits')) >= hitsThere,
    'host1 has every row host2 had: the writes made there since the move were carried back',
  );
  assert.match(t.err, /✓ tbsvc\/db\/write-back .*: changed/);
  assert.equal(onHost(db, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(onHost(db, `docker volume ls -q --filter name=${STACK}_db-data`).trim(), `${STACK}_db-data`);
  const refused = await run(['apply', '--yes']);
  assert.equal(refused.code, 2, refused.err + refused.out);
  assert.match(refused.err, /ferry.yml places tbsvc\/db on host2, but it runs on host1 with its data/);
}
