/**
 * Deploying a stack to a real host with `ferry apply`: the release, health waits, nginx,
 * idempotence, stale plans, zero-downtime swaps under load, a failing release that
 * leaves the previous one serving, rollback, a held lock, a full disk and no permission.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { paths } from '../../scripts/testbed/lib.mjs';
import { join } from 'node:path';
import { loadImages, onHost, testbedHosts, testbedIsUp } from './helpers.js';
import { CANARY, removeStack, load, makeStack, type Stack } from './deploy-stack.js';
import { ferry } from '../cli/run.js';

const STACK = 'tbdeploy';
const CHILD = fileURLToPath(new URL('./ferry-child.ts', import.meta.url));
const current = (s: Stack) => onHost(s.host, `readlink /srv/ferry/${STACK}/current`).trim().replace('releases/', '');
const summary = (out: string) =>
  JSON.parse(out.trim().split('\n').pop()!) as {
    changed: number;
    ok: number;
    failed: number;
    skipped: number;
    run: string;
  };

describe(
  'ferry apply on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    let s: Stack;
    before(() => {
      s = makeStack(testbedHosts()[1]!, STACK);
      removeStack(s, STACK);
      loadImages(s.host, ['ferry-tb-postgres:1']);
    });
    after(() => removeStack(s, STACK));

    test('a first apply deploys the stack behind nginx; a second changes nothing', () => firstApplyThenNothing(s));

    test('a saved plan is refused once the server changed since, and nothing is changed', () => stalePlanRefused(s));

    test('a new version is swapped in under load without a failed request', () => swapUnderLoad(s));

    test('a release that fails its health check is removed; the previous one keeps serving', () =>
      failingReleaseRemoved(s));

    test('ferry rollback returns to the release before', () => rollbackToPrevious(s));

    test('an apply while another holds the lock is refused at once, naming the holder', () => lockHeldRefused(s));

    test('an apply killed with SIGKILL in the middle of the deploy step is refused by its lock, then resumed to the end', () =>
      killedApplyResumed(s));

    test('without --yes and without a terminal, apply refuses before changing anything', () =>
      noConfirmationRefused(s));

    test('a user who may not use Docker gets permission-denied from the plan, and nothing changes', () =>
      dockerPermissionDenied(s));

    test('a full disk stops the release upload with a clear error and leaves nothing half-written', () =>
      fullDiskRefused(s));
  },
);

async function firstApplyThenNothing(s: Stack): Promise<void> {
  const first = await s.run(['apply', '--yes', '--json']);
  assert.equal(first.code, 0, first.err + first.out);
  const sum = summary(first.out);
  assert.equal(sum.failed, 0);
  assert.ok(sum.changed >= 4, first.out);
  const page = await s.get('/');
  assert.equal(page.status, 200);
  assert.match(page.body, /^ferry-tb-app 1 on /);
  assert.match((await s.get('/health')).body, /"database": "ok"/);
  const id = current(s);
  assert.equal(
    onHost(
      s.host,
      `stat -c '%a %U' /srv/ferry/${STACK}/releases/${id}/.env /srv/ferry/${STACK}/releases/${id}/compose.yml`,
    ),
    '600 root\n600 root\n',
  );
  const second = await s.run(['apply', '--yes', '--json']);
  assert.equal(second.code, 0, second.err);
  assert.equal(summary(second.out).changed, 0, second.out + second.err);
  assert.equal(current(s), id);
  for (const t of [first, second]) assert.equal(`${t.out}${t.err}`.includes(CANARY), false);
  for (const f of readdirSync(s.state)) assert.equal(readFileSync(join(s.state, f)).includes(CANARY), false, f);
  assert.equal((await s.runs()).length, 2);
}

async function stalePlanRefused(s: Stack): Promise<void> {
  const planned = await s.run(['plan', '--out', 'plan.json'], { APP_VERSION: '2' });
  assert.equal(planned.code, 0, planned.err);
  assert.match(planned.out, /tbdeploy\/up\s+change/);
  const before = current(s);
  onHost(s.host, `rm /etc/nginx/ferry/${STACK}.upstreams.conf`);
  const stale = await s.run(['apply', 'plan.json', '--yes'], { APP_VERSION: '2' });
  assert.equal(stale.code, 1);
  assert.match(stale.err, /error plan-stale: .*nothing was changed/);
  assert.match(stale.err, /tbdeploy\/proxy\/upstreams on host2: planned ok; now change/);
  assert.equal(current(s), before);
  const other = await s.run(['apply', 'plan.json', '--yes'], { APP_VERSION: '3' });
  assert.match(other.err, /the release is now \w+, the plan was made for \w+/);
  assert.equal((await s.run(['apply', '--yes', '--json'])).code, 0);
}

async function swapUnderLoad(s: Stack): Promise<void> {
  const deploy = s.run(['apply', '--yes', '--json'], { APP_VERSION: '2' });
  const result = await load(s.host.host, s.domain, 300, 4, deploy);
  const t = await deploy;
  assert.equal(t.code, 0, t.err);
  assert.equal(result.failed, 0, JSON.stringify(result.codes));
  assert.ok(result.ok >= 300);
  assert.match((await s.get('/')).body, /^ferry-tb-app 2 on /);
}

async function failingReleaseRemoved(s: Stack): Promise<void> {
  const before = current(s);
  const deploy = s.run(['apply', '--yes'], { APP_VERSION: '3', DB_HOST: 'nowhere' });
  const result = await load(s.host.host, s.domain, 100, 2, deploy);
  const t = await deploy;
  assert.equal(t.code, 1);
  assert.match(t.err, /error (health-check-failed|verify-failed): .*did not become ready|not ready/);
  assert.match(t.out, /rolled back: .*tbdeploy\/up/);
  assert.equal(result.failed, 0, JSON.stringify(result.codes));
  assert.equal(current(s), before);
  assert.match((await s.get('/')).body, /^ferry-tb-app 2 on /);
  assert.equal(
    onHost(
      s.host,
      `docker ps -a --filter label=com.docker.compose.service=web --filter label=com.docker.compose.project=${STACK} -q | wc -l`,
    ).trim(),
    '1',
  );
}

async function rollbackToPrevious(s: Stack): Promise<void> {
  const t = await s.run(['rollback', STACK, '--yes']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.match((await s.get('/')).body, /^ferry-tb-app 1 on /);
  const again = await s.run(['apply', '--yes', '--json'], { APP_VERSION: '2' });
  assert.equal(summary(again.out).failed, 0);
  assert.match((await s.get('/')).body, /^ferry-tb-app 2 on /);
}

async function lockHeldRefused(s: Stack): Promise<void> {
  onHost(
    s.host,
    `mkdir -p /var/lib/ferry/locks/${STACK}.lock && echo '{"run":"other-run-1","by":"ops@laptop","at":"2026-01-01T00:00:00Z","command":"apply"}' > /var/lib/ferry/locks/${STACK}.lock/owner.json`,
  );
  try {
    const before = current(s);
    const t = await s.run(['apply', '--yes'], { APP_VERSION: '4' });
    assert.equal(t.code, 1);
    assert.match(t.err, /error lock-held: stack tbdeploy on host2 is locked by run other-run-1 \(ops@laptop/);
    assert.equal(current(s), before);
  } finally {
    onHost(s.host, `rm -rf /var/lib/ferry/locks/${STACK}.lock`);
  }
}

async function killedApplyResumed(s: Stack): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      CHILD,
      'apply',
      '--yes',
      '-f',
      'ferry.yml',
      '--known-hosts',
      paths.knownHosts,
    ],
    {
      cwd: s.dir,
      env: { ...process.env, FERRY_STATE_DIR: s.state, APP_VERSION: '6' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  const killed = new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/… tbdeploy\/up: /.test(err) && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('close', () => resolve());
  });
  await killed;
  assert.equal(child.signalCode, 'SIGKILL', err);
  const refused = await s.run(['apply', '--yes'], { APP_VERSION: '6' });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /error lock-held: .*locked by run/);
  const resumed = await s.run(['apply', '--resume', '--yes', '--json'], { APP_VERSION: '6' });
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(summary(resumed.out).failed, 0);
  assert.match((await s.get('/')).body, /^ferry-tb-app 6 on /);
  assert.equal(onHost(s.host, `test -e /var/lib/ferry/locks/${STACK}.lock && echo held || echo free`).trim(), 'free');
  const runs = await s.runs();
  assert.equal(runs[0]!.status, 'succeeded');
  assert.match(runs[0]!.command, /^apply --resume /);
  assert.ok(
    runs.some((r) => r.status === 'interrupted'),
    'the killed run stays recorded as unfinished',
  );
}

async function noConfirmationRefused(s: Stack): Promise<void> {
  const before = current(s);
  const t = await s.run(['apply'], { APP_VERSION: '7' });
  assert.equal(t.code, 2);
  assert.match(t.err, /error usage: apply changes servers and needs a confirmation/);
  assert.equal(current(s), before);
}

async function dockerPermissionDenied(s: Stack): Promise<void> {
  const fleet = readFileSync(join(s.dir, 'ferry.yml'), 'utf8').replace(`user: ${s.host.user}`, 'user: deploy');
  writeFileSync(join(s.dir, 'ferry-deploy.yml'), fleet);
  const before = current(s);
  const t = await ferry(['apply', '--yes', '-f', 'ferry-deploy.yml', '--known-hosts', paths.knownHosts], {
    cwd: s.dir,
    env: { FERRY_STATE_DIR: s.state, APP_VERSION: '7' },
  });
  assert.equal(t.code, 1);
  assert.match(t.out, /tbdeploy\/engine\s+ERROR\s+permission-denied: host2: the SSH user may not use Docker/);
  assert.match(t.err, /error plan-check-failed: .*nothing was changed/);
  assert.equal(current(s), before);
}

async function fullDiskRefused(s: Stack): Promise<void> {
  const before = current(s);
  onHost(
    s.host,
    `mkdir -p /tmp/ferry-full && mount -t tmpfs -o size=64k tmpfs /tmp/ferry-full && dd if=/dev/zero of=/tmp/ferry-full/fill bs=4k count=100 2>/dev/null; ` +
      `mount --bind /tmp/ferry-full /srv/ferry/${STACK}/releases; true`,
  );
  try {
    const t = await s.run(['apply', '--yes'], { APP_VERSION: '5' });
    assert.equal(t.code, 1);
    assert.match(t.err, /No space left on device/);
    assert.match(t.err, /hint: /);
    assert.doesNotMatch(t.err, /\n\s+at /);
    assert.equal(onHost(s.host, `ls /srv/ferry/${STACK}/releases | grep -c partial || true`).trim(), '0');
  } finally {
    onHost(s.host, `umount /srv/ferry/${STACK}/releases; umount /tmp/ferry-full; rmdir /tmp/ferry-full`);
  }
  assert.equal(current(s), before);
  assert.match((await s.get('/')).body, /^ferry-tb-app 6 on /);
}
