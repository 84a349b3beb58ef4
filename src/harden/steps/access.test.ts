/**
 * The three access steps (arm, change, confirm) on a simulated server: what sshd listens
 * on follows the drop-in at each reload, ufw keeps its rules, and the switch's restore
 * puts the saved state back. The exact lines of check, apply, verify and rollback, a
 * proof that fails (the previous configuration put back at once), and the refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testContext } from '../../engine/test-helpers.js';
import type { HardenDef } from '../../model/harden.js';
import { described } from '../../proxy/test-host.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { Login } from '../access.js';
import type { Prover } from '../prove.js';
import { SSHD_DROP_IN } from '../render/sshd.js';
import { RESTORE_SCRIPT, SWITCH_SERVICE_PATH, SWITCH_TIMER_PATH } from '../render/switch.js';
import { HARDEN } from '../test-cases.js';
import { accessStateCommand } from './access-state.js';
import { restoreNowCommand, reloadSshCommand, type AccessOptions } from './access-view.js';
import { accessStep, ufwDefaultsCommand } from './access.js';
import { sha256 } from './config-file.js';
import { armedCommand, armStep, confirmStep, disarmCommand, saveCommand, startTimerCommand } from './switch.js';

/** Every ufw change holds the host's ufw lock. */
const LOCKED = 'flock -w 60 /run/ferry-ufw.lock ';

const STATE = render(accessStateCommand);
/** An upload's line without its content. */
const noContent = (l: string): string => (l.startsWith('upload ') ? l.split(' "')[0]! : l);
const LOGIN: Login = { user: 'root', operatorKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator'] };

/** A server: sshd's ports follow the drop-in at each reload; the switch saves and restores. */
class Server extends RecordingTransport {
  dropIn: string | null = null;
  ports = [22];
  ufw = { active: false, lines: [] as string[] };
  armed = false;
  private saved?: { dropIn: string | null; ufw: { active: boolean; lines: string[] } };

  constructor() {
    super('box');
    this.when(STATE, () => ({ stdout: this.state() }));
    this.when(render(saveCommand), () => ((this.saved = { dropIn: this.dropIn, ufw: structuredClone(this.ufw) }), {}));
    this.when(render(startTimerCommand), () => ((this.armed = true), {}));
    this.when(render(armedCommand), () => ({ code: this.armed ? 0 : 3 }));
    this.when(render(disarmCommand), () => ((this.armed = false), (this.saved = undefined), {}));
    this.when(render(restoreNowCommand), () => {
      if (this.saved) Object.assign(this, { dropIn: this.saved.dropIn, ufw: this.saved.ufw, saved: undefined });
      this.armed = false;
      this.ports = this.portsOf(this.dropIn);
      return {};
    });
    this.when(/^sh -c '\[ -f "\$1" \]' sh /, () => ({ code: this.saved ? 0 : 1 }));
    this.when('sshd -t', {});
    this.when(render(reloadSshCommand), () => ((this.ports = this.portsOf(this.dropIn)), {}));
    this.when(render(ufwDefaultsCommand), {});
    this.when(`${LOCKED}ufw --force enable`, () => ((this.ufw.active = true), {}));
    this.when(/^flock -w 60 \/run\/ferry-ufw\.lock ufw (delete )?allow /, (line) => {
      const words = line.replace(/^flock -w 60 \/run\/ferry-ufw\.lock ufw (delete )?allow /, '');
      const added = `ufw allow ${words.replace(/'/g, '')}`.replace(/comment (.*)$/, "comment '$1'");
      if (line.includes(' ufw delete ')) this.ufw.lines = this.ufw.lines.filter((l) => l !== added);
      else this.ufw.lines.push(added);
      return {};
    });
  }

  override async upload(path: string, content: string | Buffer, opts: { mode: number }): Promise<void> {
    await super.upload(path, content, opts);
    if (path === SSHD_DROP_IN) this.dropIn = content.toString();
  }

  private portsOf(dropIn: string | null): number[] {
    const ports = [...(dropIn ?? '').matchAll(/^Port (\d+)$/gm)].map((m) => Number(m[1]));
    return ports.length > 0 ? ports : [22];
  }

  private state(): string {
    return [
      '@@ports',
      ...this.ports.map(String),
      '@@socket',
      'inactive',
      '@@dropin',
      this.dropIn === null ? '' : sha256(this.dropIn),
      '@@ufw',
      'installed',
      `Status: ${this.ufw.active ? 'active' : 'inactive'}`,
      this.ufw.active ? 'Default: deny (incoming), allow (outgoing), deny (routed)' : '',
      '@@added',
      ...this.ufw.lines,
      '@@switch',
      this.armed ? 'active' : 'inactive',
      ...(this.saved ? ['saved'] : []),
    ].join('\n');
  }

  take(): string[] {
    const out = this.calls.slice(this.taken).map(described);
    this.taken = this.calls.length;
    return out;
  }
  private taken = 0;
}

function options(prove: Prover, harden: HardenDef = HARDEN): AccessOptions {
  return {
    server: 'box',
    harden,
    login: LOGIN,
    extraRules: [],
    sudo: true,
    prove,
    ids: { arm: 'harden/box/switch-arm', change: 'harden/box/access', confirm: 'harden/box/switch-confirm' },
    dependsOn: [],
  };
}

const provedOn: { port: number; user: string }[] = [];
const goodProof: Prover = async (_s, req) => (provedOn.push(req), { ok: true, message: 'in' });

test('arm, change, confirm: the switch first, the old port kept until the new one is proven, then closed and proven again', async () => {
  const t = new Server();
  const o = options(goodProof, { ...HARDEN, firewall: { allow: [] } });
  const [arm, change, confirm] = [armStep(o), accessStep(o), confirmStep(o)];
  const ctx = testContext(t);
  const checked = await arm.check(ctx);
  assert.equal(checked.needed, true);
  assert.match(
    checked.change!.summary,
    /^timer of 120 s, for: sshd drop-in: create, sshd ports 22 -> 2222, ufw: enable/,
  );
  assert.deepEqual(t.take(), [STATE]);
  await arm.apply(ctx, checked.observed!);
  assert.deepEqual(t.take().map(noContent), [
    render(saveCommand),
    `upload ${RESTORE_SCRIPT} 700`,
    `upload ${SWITCH_SERVICE_PATH} 644`,
    `upload ${SWITCH_TIMER_PATH} 644`,
    render(startTimerCommand),
  ]);
  assert.deepEqual(await arm.verify(ctx, checked.observed!), { ok: true });
  t.take();

  const c = await change.check(ctx);
  assert.equal(c.needed, true);
  t.take();
  await change.apply(ctx, c.observed!);
  const lines = t.take().map(noContent);
  assert.deepEqual(lines, [
    `sh -c '[ -f "$1" ]' sh /var/lib/ferry/harden/switch/saved.tar`,
    `upload ${SSHD_DROP_IN} 644`,
    'sshd -t',
    'systemctl reload ssh',
    STATE,
    render(ufwDefaultsCommand),
    `${LOCKED}ufw allow 2222/tcp comment 'ferry-harden ssh'`,
    `${LOCKED}ufw allow 22/tcp comment 'ferry-harden ssh'`,
    `${LOCKED}ufw --force enable`,
    `upload ${SSHD_DROP_IN} 644`,
    'sshd -t',
    'systemctl reload ssh',
    STATE,
    render(ufwDefaultsCommand),
    `${LOCKED}ufw delete allow 22/tcp comment 'ferry-harden ssh'`,
    STATE,
  ]);
  assert.deepEqual(provedOn.splice(0), [
    { port: 2222, user: 'ops' },
    { port: 2222, user: 'ops' },
  ]);
  assert.deepEqual(t.ports, [2222]);
  assert.deepEqual(await change.verify(ctx, c.observed!), { ok: true });
  t.take();

  const k = await confirm.check(ctx);
  assert.deepEqual(k.change, { summary: 'new session as ops on port 2222, then disarm' });
  await confirm.apply(ctx, k.observed!);
  assert.deepEqual(t.take().slice(-1), [render(disarmCommand)]);
  assert.equal(t.armed, false);
  // A second pass finds nothing to do.
  for (const s of [arm, change, confirm]) assert.equal((await s.check(ctx)).needed, false);
  assert.ok(t.calls.every((x) => x.sudo));
});

test('a proof that fails puts the previous configuration back at once: harden-proof-failed, sshd on its old port', async () => {
  const t = new Server();
  const o = options(async () => ({ ok: false, message: 'auth-failed: box: ops@10.0.0.1:2222 refused the key' }));
  const ctx = testContext(t);
  const arm = armStep(o);
  await arm.apply(ctx, (await arm.check(ctx)).observed!);
  const change = accessStep(o);
  const c = await change.check(ctx);
  t.take();
  await assert.rejects(change.apply(ctx, c.observed!), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'harden-proof-failed');
    assert.match(
      e.message,
      /^box: with the new settings beside the old port: a new SSH session as ops on port 2222 did not get in \(auth-failed: .*\); the previous sshd and firewall configuration was put back$/,
    );
    assert.match(e.hint ?? '', /servers\/box\/harden/);
    return true;
  });
  assert.deepEqual(t.take().slice(-1), [render(restoreNowCommand)]);
  assert.deepEqual(t.ports, [22]);
  assert.equal(t.dropIn, null);
  // Rollback finds the switch disarmed and the change not in place: nothing more.
  await change.rollback(ctx, c.observed!);
  assert.deepEqual(t.take(), [STATE]);
});

test('refusals: root login off with no admin, an admin without the key Ferry logs in with, AllowUsers without the login user', async () => {
  const refused = async (harden: HardenDef, login: Login = LOGIN) => {
    const o = { ...options(goodProof, harden), login };
    return armStep(o)
      .check(testContext(new Server()))
      .then(
        () => 'ok',
        (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
      );
  };
  const { admin: _admin, ...noAdmin } = HARDEN;
  assert.match(await refused(noAdmin), /^harden-no-way-in: box: servers\/box\/harden turns root login off/);
  assert.match(
    await refused({ ...HARDEN, admin: { user: 'ops', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther me'] } }),
    /^harden-key-missing: box: .*leaves out the key Ferry logs in with/,
  );
  assert.match(
    await refused(HARDEN, { user: 'root', operatorKeys: [] }),
    /^harden-key-missing: box: no public key to give ops/,
  );
  assert.match(
    await refused({ ...HARDEN, ssh: { ...HARDEN.ssh!, allowUsers: ['deploy'] } }),
    /^harden-no-way-in: box: AllowUsers \(deploy\) leaves out ops/,
  );
  assert.equal(await refused({ ...HARDEN, ssh: { ...HARDEN.ssh!, allowUsers: ['ops@10.0.0.0/8'] } }), 'ok');
});
