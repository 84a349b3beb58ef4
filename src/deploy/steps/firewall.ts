/** The firewall of a placed service on its server (see ../firewall.ts): checked, applied, verified, undone. */
import { and, cmd, quiet, render, script, seq, write, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import {
  ruleCommand,
  type Guard,
  ufwAddedLine,
  ufwCommand,
  ufwSources,
  unitName,
  unitPath,
  unitText,
} from '../firewall.js';
import { commandFailure, doing, failureAs } from './failure.js';

/** What the firewall's check saw before this step first applied (kept from `ctx.prior` on resume). */
export interface FirewallObserved {
  /** The unit file was there: rollback leaves it (a unit for other addresses is put right by a later apply). */
  unitExisted: boolean;
  /** ufw is installed and lacked the allowance: apply adds it, rollback deletes it. */
  ufwAdds: boolean;
}

interface Seen extends FirewallObserved {
  /** What is missing; empty when the firewall is as it should be. */
  missing: string[];
}

export function firewallStep(o: {
  id: string;
  host: string;
  stack: string;
  placed: Guard;
  /** Who `allowFrom` is, for the plan's text. */
  who?: string;
  phase?: Step['phase'];
  sudo: boolean;
  dependsOn: string[];
}): Step<FirewallObserved> {
  const { stack, placed: p, sudo } = o;
  const unit = unitName(stack, p.service);
  const path = unitPath(stack, p.service);
  const text = unitText(stack, p);
  const hint = `${o.host} needs iptables and systemd (and root, or sudo: true); fix that, then apply again.`;
  const exec = (ctx: StepContext, c: Command, stdin?: string) =>
    ctx.transport.exec(c, { sudo, ...(stdin !== undefined ? { stdin } : {}) });
  const hasUfw = async (ctx: StepContext) => (await exec(ctx, quiet(cmd('sh', '-c', 'command -v ufw')))).code === 0;
  /** The sources ufw lacks an allowance from (none when ufw is not installed). */
  const ufwMissing = async (ctx: StepContext): Promise<string[]> => {
    if (!(await hasUfw(ctx))) return [];
    const added = (await exec(ctx, quiet(cmd('ufw', 'show', 'added')))).stdout;
    return ufwSources(p).filter((from) => !added.includes(ufwAddedLine(stack, p, from)));
  };
  const inspect = async (ctx: StepContext): Promise<Seen> => {
    const missing: string[] = [];
    if ((await exec(ctx, quiet(cmd('systemctl', '--version')))).code !== 0) {
      throw new StepError(
        'no-systemd',
        `${o.host}: systemctl is not there; the firewall of ${stack}/${p.service} needs systemd to come back after a reboot`,
        `Run ${o.host} with systemd (every common VPS image does), or keep ${p.service} on the stack's server.`,
      );
    }
    const current = await exec(ctx, quiet(cmd('cat', path)));
    if (current.code !== 0 || current.stdout !== text) missing.push(`unit ${unit}`);
    if ((await exec(ctx, quiet(cmd('systemctl', 'is-enabled', unit)))).stdout.trim() !== 'enabled')
      missing.push(`${unit} enabled`);
    if ((await exec(ctx, quiet(ruleCommand(stack, p, '-C')))).code !== 0)
      missing.push(`${p.onHost ? 'INPUT' : 'DOCKER-USER'} drop of ${p.address}:${p.port} except from ${p.allowFrom}`);
    const ufwAdds = (await ufwMissing(ctx)).length > 0;
    if (ufwAdds) missing.push('ufw allow');
    return { missing, unitExisted: current.code === 0, ufwAdds };
  };
  const must = async (ctx: StepContext, c: Command, what: string, stdin?: string) => {
    const e = commandFailure(await exec(ctx, c, stdin), doing(ctx, what), 'firewall-failed', hint);
    if (e) throw e;
  };
  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'transfer',
    title: `firewall: only ${p.allowFrom} reaches ${p.service} on ${p.address}:${p.port}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Let only ${o.who ?? "the stack's server"} (${p.allowFrom}) connect to ${p.service}, ${p.onHost ? 'listening' : 'published'} on ${p.address}:${p.port}: ${p.onHost ? 'an INPUT rule ahead of any other' : "a DOCKER-USER rule (Docker's published ports bypass ufw's INPUT rules)"}, put back by a systemd unit whenever Docker starts, and the same allowance in ufw when it is installed.`,
      commands: [
        `cat > ${path} <<'EOF'\n${text}EOF`,
        render(cmd('systemctl', 'daemon-reload')),
        render(cmd('systemctl', 'enable', '--now', unit)),
        render(cmd('systemctl', 'restart', unit)),
        ...ufwSources(p).map((from) => render(ufwCommand(stack, p, from))),
      ],
      verify: render(ruleCommand(stack, p, '-C')),
      undo: [
        render(cmd('systemctl', 'disable', '--now', unit)),
        `rm ${path}`,
        ...ufwSources(p).map((from) => render(ufwCommand(stack, p, from, true))),
      ].join('; '),
    }),
    async check(ctx) {
      const seen = await inspect(ctx);
      const prior = ctx.prior as FirewallObserved | undefined;
      const observed: FirewallObserved = prior
        ? { unitExisted: prior.unitExisted, ufwAdds: prior.ufwAdds }
        : { unitExisted: seen.unitExisted, ufwAdds: seen.ufwAdds };
      return seen.missing.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: `add: ${seen.missing.join(', ')}` }, observed };
    },
    async apply(ctx) {
      const before = await exec(ctx, quiet(cmd('cat', path)));
      // A unit for other addresses removes its own rule when it stops.
      if (before.code === 0 && before.stdout !== text) await exec(ctx, quiet(cmd('systemctl', 'stop', unit)));
      await must(ctx, write(cmd('cat'), path), `writing ${path}`, text);
      const start = seq(
        cmd('systemctl', 'daemon-reload'),
        and(cmd('systemctl', 'enable', unit), cmd('systemctl', 'restart', unit)),
      );
      const failed = failureAs(
        'systemctl',
        await exec(ctx, start),
        doing(ctx, `starting ${unit}`),
        'firewall-failed',
        hint,
      );
      if (failed) throw failed;
      for (const from of await ufwMissing(ctx)) await must(ctx, ufwCommand(stack, p, from), `ufw allow from ${from}`);
    },
    async verify(ctx) {
      const { missing } = await inspect(ctx);
      return missing.length === 0 ? { ok: true } : { ok: false, message: `missing: ${missing.join(', ')}` };
    },
    async rollback(ctx, observed) {
      // Each undo is harmless when apply stopped before doing it.
      if (!observed.unitExisted)
        await exec(
          ctx,
          script('systemctl disable --now "$1" 2>/dev/null; rm -f "$2"; systemctl daemon-reload', unit, path),
        );
      if (observed.ufwAdds) for (const from of ufwSources(p)) await exec(ctx, quiet(ufwCommand(stack, p, from, true)));
    },
  };
}
