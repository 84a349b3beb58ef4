/**
 * The tunnel logical replication runs through: the target's database subscribes to the
 * source's, which publishes no port. A second channel, from the target to the source,
 * whose key may only forward to the source's database container (`permitopen`); and an
 * `ssh -L` started on the target inside the network namespace of its database container,
 * so that `127.0.0.1:15432` there is the source's Postgres, encrypted by SSH on the way.
 */
import { cmd, render, script, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Step, StepContext } from '../engine/step.js';
import type { Transport } from '../transport/transport.js';
import { runTool } from '../tools/run.js';
import { toolFailure } from '../tools/classify.js';
import { destination, sshOptions, type Channel } from './channel.js';
import { TUNNEL_PORT } from './replica-sql.js';

/** The address of a container on its first network, as its host reaches it. */
export const containerAddressCommand = (container: string): Command =>
  cmd('docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', container);
export const containerPidCommand = (container: string): Command =>
  cmd('docker', 'inspect', '-f', '{{.State.Pid}}', container);

/** Names the tunnel of one database in its ssh command line (SetEnv is sent with sessions only, and -N opens none). */
const tag = (service: string): string => `SetEnv=FERRY_TUNNEL=${service}`;

/** A pattern for `pgrep -f` that matches the tunnel's ssh but not a shell whose command line holds the pattern. */
export const tunnelPattern = (ch: Channel, service: string): string =>
  `[${ch.keyPath[0]}]${ch.keyPath.slice(1)} .*${tag(service)} -f -N `;

export const logPath = (ch: Channel, service: string): string => `${ch.keyPath}.${service}.log`;

/** On the target: `ssh -f -N -L` in the database container's network namespace; fails (with ssh's words) unless the forward is up. */
export function tunnelStartCommand(ch: Channel, service: string, pid: string, to: string): Command {
  const ssh = cmd(
    'nsenter',
    '-t',
    pid,
    '-n',
    ...sshOptions(ch),
    '-o',
    tag(service),
    '-f',
    '-N',
    '-o',
    'ExitOnForwardFailure=yes',
    '-L',
    `127.0.0.1:${TUNNEL_PORT}:${to}`,
    destination(ch.target),
  );
  const log = logPath(ch, service);
  if (ssh.kind !== 'argv') throw new Error('the tunnel is one command');
  return script('log=$1; shift; "$@" </dev/null >"$log" 2>&1 || { tail -n 3 "$log" >&2; exit 1; }', log, ...ssh.argv);
}

export const tunnelStopCommand = (ch: Channel, service: string): Command =>
  // ssh exits a moment after SIGTERM: wait for it (5 s at most, then SIGKILL), so that a
  // check right after sees it gone.
  script(
    'pkill -f "$1"; i=0; while pgrep -f "$1" >/dev/null; do i=$((i+1)); if [ $i -gt 50 ]; then pkill -9 -f "$1"; break; fi; sleep 0.1; done; rm -f "$2"; true',
    tunnelPattern(ch, service),
    logPath(ch, service),
  );
export const tunnelRunningCommand = (ch: Channel, service: string): Command =>
  cmd('pgrep', '-f', tunnelPattern(ch, service));
/** Whether the source's Postgres answers at the tunnel's end, inside the target's container (no password needed). */
export const tunnelAnswersCommand = (container: string): Command =>
  cmd('docker', 'exec', container, 'pg_isready', '-q', '-h', '127.0.0.1', '-p', String(TUNNEL_PORT));

export async function firstAddress(t: Transport, container: string, sudo: boolean): Promise<string> {
  const r = await t.exec(containerAddressCommand(container), { sudo });
  const failed = toolFailure('docker', r, {
    host: t.name,
    what: `reading the address of ${container}`,
    redact: (s) => s,
  });
  if (failed) throw failed;
  const ip = r.stdout.trim().split(/\s+/)[0];
  if (!ip)
    throw new StepError(
      'database-not-running',
      `${t.name}: container ${container} has no network address`,
      'Check that it runs (docker ps), then run migrate again with --resume.',
    );
  return ip;
}

export interface TunnelStepOptions {
  id: string;
  /** The channel from the target (its `source`) to the source (its `target`). */
  ch: Channel;
  /** The database service: one tunnel each. */
  service: string;
  /** @deprecated Not used: the steps run on the channel's source and reach its target through their context. */
  target?: () => Transport;
  /** @deprecated Not used (see `target`). */
  source?: () => Transport;
  /** Containers of the database on each side (the step's own host, and the host it reaches), found when needed. */
  targetContainer: (ctx: StepContext) => Promise<string>;
  sourceContainer: (ctx: StepContext) => Promise<string>;
  dependsOn: string[];
  /** The closing step: default `ID-close`, after the start. */
  stopId?: string;
  stopDependsOn?: string[];
}

/** What start's check saw: whether the source's Postgres answered through a tunnel already. */
export interface TunnelObserved {
  answering: boolean;
}

/** What stop's check saw: whether the tunnel's ssh ran. */
export interface TunnelStopObserved {
  running: boolean;
}

/** How long verify waits for the forward to answer: 20 tries, 0.25 s apart. */
const ANSWER_TRIES = 20;
const ANSWER_EVERY_MS = 250;

export function tunnelSteps(o: TunnelStepOptions): { start: Step<TunnelObserved>; stop: Step<TunnelStopObserved> } {
  const sudo = o.ch.source.sudo;
  const on = (ctx: StepContext, c: Command) => ctx.transport.exec(c, { sudo });
  const answers = async (ctx: StepContext) =>
    (await on(ctx, tunnelAnswersCommand(await o.targetContainer(ctx)))).code === 0;
  const running = async (ctx: StepContext) => (await on(ctx, tunnelRunningCommand(o.ch, o.service))).code === 0;
  const stopTunnel = async (ctx: StepContext) => {
    await on(ctx, tunnelStopCommand(o.ch, o.service));
  };
  const host = o.ch.source.name;
  const peer = o.ch.target.name;
  const start: Step<TunnelObserved> = {
    id: o.id,
    host,
    reaches: [peer],
    phase: 'transfer',
    title: `tunnel from ${host}'s database container to ${peer}'s Postgres`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Let the database on ${host} reach the database on ${peer} at 127.0.0.1:${TUNNEL_PORT} inside its container, through SSH, for logical replication. The source's database publishes no port.`,
      commands: [render(tunnelStartCommand(o.ch, o.service, 'PID_OF_TARGET_DB', 'SOURCE_DB_ADDRESS:5432'))],
      verify: `${render(tunnelAnswersCommand('TARGET_DB'))}, every ${ANSWER_EVERY_MS} ms, at most ${ANSWER_TRIES} times (${(ANSWER_TRIES * ANSWER_EVERY_MS) / 1000} s).`,
      undo: render(tunnelStopCommand(o.ch, o.service)),
    }),
    async check(ctx) {
      return (await answers(ctx))
        ? { needed: false, observed: { answering: true } }
        : {
            needed: true,
            change: {
              summary: `ssh -L 127.0.0.1:${TUNNEL_PORT} in ${host}'s database container to ${peer}'s Postgres`,
            },
            observed: { answering: false },
          };
    },
    async apply(ctx) {
      if (await running(ctx)) await stopTunnel(ctx);
      const container = await o.targetContainer(ctx);
      const pid = (
        await runTool(ctx, 'docker', containerPidCommand(container), { what: `reading the pid of ${container}`, sudo })
      ).trim();
      const to = `${await firstAddress(ctx.on(peer), await o.sourceContainer(ctx), o.ch.target.sudo)}:5432`;
      const r = await on(ctx, tunnelStartCommand(o.ch, o.service, pid, to));
      if (r.code !== 0) {
        throw new StepError(
          'tunnel-failed',
          `${host}: the tunnel to ${peer}'s database did not open: ${ctx.redactor.redact(r.stderr.trim().split('\n').pop() ?? '')}`,
          `Check that ${host} reaches ${peer} on SSH port ${o.ch.target.port}, then run migrate again with --resume.`,
        );
      }
    },
    async verify(ctx) {
      for (let i = 0; i < ANSWER_TRIES; i++) {
        if (await answers(ctx)) return { ok: true };
        await new Promise((r) => setTimeout(r, ANSWER_EVERY_MS));
      }
      return {
        ok: false,
        message: `${peer}'s Postgres does not answer at 127.0.0.1:${TUNNEL_PORT} in ${host}'s database container`,
      };
    },
    // Stopping a tunnel that is not there does nothing: right after any part of apply.
    rollback: stopTunnel,
  };
  const stop: Step<TunnelStopObserved> = {
    id: o.stopId ?? `${o.id}-close`,
    host,
    phase: 'verify',
    title: `close the replication tunnel on ${host}`,
    dependsOn: o.stopDependsOn ?? [o.id],
    doc: () => ({
      purpose: 'Stop the tunnel: replication is over.',
      commands: [render(tunnelStopCommand(o.ch, o.service))],
      verify: 'No such ssh process runs.',
      undo: 'Nothing.',
    }),
    async check(ctx) {
      return (await running(ctx))
        ? { needed: true, change: { summary: 'stop the replication tunnel' }, observed: { running: true } }
        : { needed: false, observed: { running: false } };
    },
    apply: stopTunnel,
    async verify(ctx) {
      return (await running(ctx)) ? { ok: false, message: 'the tunnel still runs' } : { ok: true };
    },
    async rollback() {},
  };
  return { start, stop };
}
