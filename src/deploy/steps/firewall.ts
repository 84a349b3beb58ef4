/** The firewall of a placed service on its server (see ../firewall.ts): checked, applied, verified, undone. */
import { and, cmd, quiet, render, script, seq, write } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { ruleCommand, ufwAddedLine, ufwCommand, unitName, unitPath, unitText } from '../firewall.js';
import type { Placed } from '../split.js';

export function firewallStep(o: {
  id: string;
  host: string;
  stack: string;
  placed: Placed;
  sudo: boolean;
  dependsOn: string[];
}): Step {
  const { stack, placed: p, sudo } = o;
  const unit = unitName(stack, p.service);
  const text = unitText(stack, p);
  /** What apply added: undone by rollback, and nothing that was there before. */
  let added = { unit: false, ufw: false };
  const exec = (ctx: StepContext, c: Parameters<StepContext['transport']['exec']>[0], stdin?: string) =>
    ctx.transport.exec(c, { sudo, ...(stdin !== undefined ? { stdin } : {}) });
  const hasUfw = async (ctx: StepContext) => (await exec(ctx, quiet(cmd('sh', '-c', 'command -v ufw')))).code === 0;
  /** ufw is installed and lacks the allowance. */
  const ufwMissing = async (ctx: StepContext) =>
    (await hasUfw(ctx)) &&
    !(await exec(ctx, quiet(cmd('ufw', 'show', 'added')))).stdout.includes(ufwAddedLine(stack, p));
  /** What is missing; empty when the firewall is as it should be. */
  const missing = async (ctx: StepContext): Promise<string[]> => {
    const out: string[] = [];
    if ((await exec(ctx, quiet(cmd('systemctl', '--version')))).code !== 0) {
      throw new StepError(
        'no-systemd',
        `${o.host}: systemctl is not there; the firewall of ${stack}/${p.service} needs systemd to come back after a reboot`,
        `Run ${o.host} with systemd (every common VPS image does), or keep ${p.service} on the stack's server.`,
      );
    }
    const current = await exec(ctx, quiet(cmd('cat', unitPath(stack, p.service))));
    if (current.code !== 0 || current.stdout !== text) out.push(`unit ${unit}`);
    if ((await exec(ctx, quiet(cmd('systemctl', 'is-enabled', unit)))).stdout.trim() !== 'enabled')
      out.push(`${unit} enabled`);
    if ((await exec(ctx, quiet(ruleCommand(stack, p, '-C')))).code !== 0)
      out.push(`DOCKER-USER drop of ${p.address}:${p.port} except from ${p.allowFrom}`);
    if (await ufwMissing(ctx)) out.push('ufw allow');
    return out;
  };
  const must = async (
    ctx: StepContext,
    c: Parameters<StepContext['transport']['exec']>[0],
    what: string,
    stdin?: string,
  ) => {
    const r = await exec(ctx, c, stdin);
    if (r.code !== 0)
      throw new StepError(
        'firewall-failed',
        `${o.host}: ${what} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`,
        `${o.host} needs iptables and systemd (and root, or sudo: true); fix that, then apply again.`,
      );
  };
  return {
    id: o.id,
    host: o.host,
    phase: 'transfer',
    title: `firewall: only ${p.allowFrom} reaches ${p.service} on ${p.address}:${p.port}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Let only the stack's server (${p.allowFrom}) connect to ${p.service}, published on ${p.address}:${p.port}: a DOCKER-USER rule (Docker's published ports bypass ufw's INPUT rules), put back by a systemd unit whenever Docker starts, and the same allowance in ufw when it is installed.`,
      commands: [
        `cat > ${unitPath(stack, p.service)} <<'EOF'\n${text}EOF`,
        render(cmd('systemctl', 'daemon-reload')),
        render(cmd('systemctl', 'enable', '--now', unit)),
        render(cmd('systemctl', 'restart', unit)),
        render(ufwCommand(stack, p)),
      ],
      verify: render(ruleCommand(stack, p, '-C')),
      undo: `${render(cmd('systemctl', 'disable', '--now', unit))}; rm ${unitPath(stack, p.service)}; ${render(ufwCommand(stack, p, true))}`,
    }),
    async check(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { needed: false } : { needed: true, change: { summary: `add: ${m.join(', ')}` } };
    },
    async apply(ctx) {
      const before = await exec(ctx, quiet(cmd('cat', unitPath(stack, p.service))));
      // A unit for other addresses removes its own rule when it stops.
      if (before.code === 0 && before.stdout !== text) await exec(ctx, quiet(cmd('systemctl', 'stop', unit)));
      added.unit = before.code !== 0;
      await must(ctx, write(cmd('cat'), unitPath(stack, p.service)), `writing ${unitPath(stack, p.service)}`, text);
      await must(
        ctx,
        seq(
          cmd('systemctl', 'daemon-reload'),
          and(cmd('systemctl', 'enable', unit), cmd('systemctl', 'restart', unit)),
        ),
        `starting ${unit}`,
      );
      if (await ufwMissing(ctx)) {
        await must(ctx, ufwCommand(stack, p), 'ufw allow');
        added.ufw = true;
      }
    },
    async verify(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { ok: true } : { ok: false, message: `missing: ${m.join(', ')}` };
    },
    async rollback(ctx) {
      if (added.unit)
        await exec(
          ctx,
          script(
            'systemctl disable --now "$1" 2>/dev/null; rm -f "$2"; systemctl daemon-reload',
            unit,
            unitPath(stack, p.service),
          ),
        );
      if (added.ufw) await exec(ctx, quiet(ufwCommand(stack, p, true)));
      added = { unit: false, ufw: false };
    },
  };
}
