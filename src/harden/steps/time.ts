/** The clock: kept in sync by systemd-timesyncd, and the time zone asked for. */
import type { Step, StepContext } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { runOwn } from '../../deploy/steps/failure.js';
import { sections } from '../../inventory/live/probe.js';

export const timeStateCommand: Command = script(
  'echo @@zone; timedatectl show -p Timezone --value 2>/dev/null || cat /etc/timezone 2>/dev/null; echo @@sync; systemctl is-enabled systemd-timesyncd 2>/dev/null; true',
);
export const setZoneCommand = (zone: string): Command =>
  script(
    '[ -f "/usr/share/zoneinfo/$1" ] || { echo "no time zone $1 in /usr/share/zoneinfo" >&2; exit 1; }; timedatectl set-timezone "$1" 2>/dev/null || { ln -sf "/usr/share/zoneinfo/$1" /etc/localtime && echo "$1" > /etc/timezone; }',
    zone,
  );
export const enableSyncCommand: Command = script('systemctl enable --now systemd-timesyncd');

export interface TimeObserved {
  zone: string;
}

export function timeStep(o: {
  id: string;
  server: string;
  zone?: string;
  sync: boolean;
  sudo: boolean;
  dependsOn: string[];
}): Step<TimeObserved> {
  const { sudo } = o;
  const read = async (ctx: StepContext) => {
    const s = sections((await ctx.transport.exec(timeStateCommand, { sudo })).stdout);
    return { zone: (s.get('zone') ?? '').trim(), sync: (s.get('sync') ?? '').trim() };
  };
  const differs = (now: { zone: string; sync: string }) => [
    ...(o.zone !== undefined && now.zone !== o.zone ? [`time zone ${now.zone || '?'} -> ${o.zone}`] : []),
    ...(o.sync && now.sync !== 'enabled' ? ['systemd-timesyncd: enable'] : []),
  ];
  const run = (ctx: StepContext, c: Command, what: string) =>
    runOwn(ctx, c, {
      sudo,
      what,
      code: 'time-failed',
      hint: `Check timedatectl and systemd-timesyncd on ${o.server}.`,
    });
  return {
    id: o.id,
    host: o.server,
    phase: 'prepare',
    title: ['time', ...(o.sync ? ['sync'] : []), ...(o.zone ? [`zone ${o.zone}`] : [])].join(' '),
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `${o.sync ? 'Keep the clock in sync with systemd-timesyncd. ' : ''}${o.zone ? `Set the time zone to ${o.zone}.` : ''}`,
      commands: [
        render(timeStateCommand),
        ...(o.zone ? [render(setZoneCommand(o.zone))] : []),
        ...(o.sync ? [render(enableSyncCommand)] : []),
      ],
      verify: render(timeStateCommand),
      undo: 'Set the time zone back to the one read before (systemd-timesyncd stays enabled).',
    }),
    async check(ctx) {
      const now = await read(ctx);
      const p = ctx.prior as Partial<TimeObserved> | undefined;
      const observed = { zone: p?.zone ?? now.zone };
      const d = differs(now);
      return d.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: d.join('; ') }, observed };
    },
    async apply(ctx) {
      const now = await read(ctx);
      if (o.zone !== undefined && now.zone !== o.zone)
        await run(ctx, setZoneCommand(o.zone), `setting the time zone ${o.zone}`);
      if (o.sync && now.sync !== 'enabled') await run(ctx, enableSyncCommand, 'enabling systemd-timesyncd');
    },
    async verify(ctx) {
      const d = differs(await read(ctx));
      return d.length === 0 ? { ok: true } : { ok: false, message: d.join('; ') };
    },
    async rollback(ctx, observed) {
      if (o.zone !== undefined && observed.zone !== '' && observed.zone !== o.zone)
        await ctx.transport.exec(setZoneCommand(observed.zone), { sudo });
    },
  };
}
