/**
 * The step that puts a stack's backup schedule on its server, or takes it away: the
 * runner, the stack's configuration, each Redis password the runner needs (mode 600),
 * the service and timer units; jq installed; the timer enabled and started. Only files
 * whose hash differs are written. The schedule is checked by systemd-analyze on the
 * server before anything is written; the units by `systemd-analyze verify` after.
 */
import { createHash } from 'node:crypto';
import { Secret } from '../core/secret.js';
import type { Step, StepContext } from '../engine/step.js';
import { StepError } from '../engine/errors.js';
import { projectContainers } from '../deploy/containers.js';
import { cmd, render, script } from '../shell/command.js';
import { redisAuthPath, runnerConfigPath, RUNNER_PATH } from './runner.js';
import { redisPasswordOf } from './run.js';
import { scheduleFiles, unitName, unitPath, type ScheduleFile, type ScheduleInput } from './schedule.js';
import type { BackupSources } from './sources.js';

export interface ScheduleStepInput extends Omit<ScheduleInput, 'schedule'> {
  server: string;
  sudo: boolean;
  /** undefined: no timer; one left by an earlier schedule is removed. */
  schedule?: string;
  dependsOn: string[];
}

interface Observed {
  /** Paths whose content differs from what Ferry would write (or that are missing). */
  differs: string[];
  /** Redis password files the runner no longer needs. */
  stale: string[];
  jq: boolean;
  timer: string;
  /** A timer is there though no schedule is configured. */
  remove: boolean;
}

const STATE = `t=$1; shift
for f; do s=$(sha256sum -- "$f" 2>/dev/null) && echo "sum \${s%% *} $f"; done
command -v jq >/dev/null && echo jq
echo "timer $(systemctl is-enabled "$t" 2>/dev/null || true)/$(systemctl is-active "$t" 2>/dev/null || true)"
test -f "/etc/systemd/system/$t" && echo unit
true`;

const INSTALL_JQ = script(
  'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends jq',
);
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A file to write: its content (a password as a Secret) and the hash it must have. */
interface Wanted extends Omit<ScheduleFile, 'content'> {
  content: string | Secret;
  sum: string;
}

async function redisAuth(ctx: StepContext, i: ScheduleStepInput, sources: BackupSources) {
  const wanted: Wanted[] = [];
  const unneeded: string[] = [];
  if (sources.redis.length === 0) return { wanted, unneeded };
  const containers = await projectContainers(ctx.transport, sources.project, i.sudo);
  for (const r of sources.redis) {
    const c = containers.find((x) => x.service === r.service && x.status === 'running');
    // Without a running container the password cannot be read: the run step says so.
    if (!c) continue;
    const password = await redisPasswordOf(ctx.transport, c.name, i.sudo);
    const path = redisAuthPath(i.stack, r.service);
    if (password === undefined) unneeded.push(path);
    else {
      ctx.redactor.add(password);
      wanted.push({ path, content: new Secret(`${password}\n`), sum: sha(`${password}\n`), mode: 0o600 });
    }
  }
  return { wanted, unneeded };
}

async function wantedFiles(ctx: StepContext, i: ScheduleStepInput, schedule: string) {
  const files: Wanted[] = scheduleFiles({ ...i, schedule }).map((f) => ({ ...f, sum: sha(f.content) }));
  const auth = await redisAuth(ctx, i, i.sources);
  return { files: [...files, ...auth.wanted], unneeded: auth.unneeded };
}

async function readState(ctx: StepContext, i: ScheduleStepInput, paths: string[]) {
  const r = await ctx.transport.exec(script(STATE, unitName(i.stack, 'timer'), ...paths), { sudo: i.sudo });
  const sums = new Map<string, string>();
  for (const l of r.stdout.split('\n')) {
    const m = /^sum ([0-9a-f]{64}) (.+)$/.exec(l);
    if (m) sums.set(m[2]!, m[1]!);
  }
  return {
    sums,
    jq: /^jq$/m.test(r.stdout),
    timer: /^timer (.*)$/m.exec(r.stdout)?.[1] ?? '/',
    unit: /^unit$/m.test(r.stdout),
  };
}

async function validSchedule(ctx: StepContext, i: ScheduleStepInput, schedule: string): Promise<void> {
  const r = await ctx.transport.exec(cmd('systemd-analyze', 'calendar', '--', schedule), { sudo: i.sudo });
  if (r.code !== 0)
    throw new StepError(
      'backup-schedule-invalid',
      `${i.server}: systemd does not accept the backup schedule "${schedule}" of ${i.stack}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`,
      'Give `backups.schedule` a systemd calendar expression: daily, hourly, weekly, "*-*-* 03:00", "Mon..Fri 02:30" (see `man systemd.time`); `systemd-analyze calendar EXPR` on the server checks one.',
      `stacks/${i.stack}/backups/schedule`,
    );
}

async function observe(ctx: StepContext, i: ScheduleStepInput): Promise<Observed> {
  if (i.schedule === undefined) {
    const s = await readState(ctx, i, []);
    return { differs: [], stale: [], jq: s.jq, timer: s.timer, remove: s.unit };
  }
  await validSchedule(ctx, i, i.schedule);
  const { files, unneeded } = await wantedFiles(ctx, i, i.schedule);
  const s = await readState(ctx, i, [...files.map((f) => f.path), ...unneeded]);
  return {
    differs: files.filter((f) => s.sums.get(f.path) !== f.sum).map((f) => f.path),
    stale: unneeded.filter((p) => s.sums.has(p)),
    jq: s.jq,
    timer: s.timer,
    remove: false,
  };
}

const settled = (o: Observed, scheduled: boolean): boolean =>
  scheduled ? o.differs.length === 0 && o.stale.length === 0 && o.jq && o.timer === 'enabled/active' : !o.remove;

function summary(i: ScheduleStepInput, o: Observed): string {
  if (i.schedule === undefined) return `remove the backup timer ${unitName(i.stack, 'timer')} (no schedule configured)`;
  const parts = [
    ...(o.jq ? [] : ['install jq']),
    ...(o.differs.length > 0 ? [`write ${o.differs.length} file(s)`] : []),
    ...(o.stale.length > 0 ? [`remove ${o.stale.length} Redis password file(s) no longer needed`] : []),
    `timer ${unitName(i.stack, 'timer')} enabled and started (OnCalendar=${i.schedule})`,
  ];
  return parts.join(', ');
}

async function install(ctx: StepContext, i: ScheduleStepInput, schedule: string, o: Observed): Promise<void> {
  const t = ctx.transport;
  if (!o.jq) {
    const r = await t.exec(INSTALL_JQ, { sudo: i.sudo, timeoutMs: 10 * 60_000 });
    if (r.code !== 0)
      throw new StepError(
        'restic-install-failed',
        `${i.server}: apt-get install jq failed (exit ${r.code}): ${ctx.redactor.redact(r.stderr.trim()).slice(-400)}`,
        'Install jq on the server by hand (`apt-get install jq`), then run again.',
        `host ${i.server}`,
      );
  }
  const { files } = await wantedFiles(ctx, i, schedule);
  await t.exec(cmd('install', '-d', '-m', '755', RUNNER_PATH.slice(0, RUNNER_PATH.lastIndexOf('/'))), {
    sudo: i.sudo,
    check: true,
  });
  for (const f of files)
    if (o.differs.includes(f.path)) await t.upload(f.path, f.content, { mode: f.mode, sudo: i.sudo });
  if (o.stale.length > 0) await t.exec(cmd('rm', '-f', '--', ...o.stale), { sudo: i.sudo, check: true });
  const timer = unitName(i.stack, 'timer');
  await t.exec(script('systemctl daemon-reload && systemctl enable "$1" && systemctl restart "$1"', timer), {
    sudo: i.sudo,
    check: true,
  });
}

const REMOVE = `systemctl disable --now "$1" 2>/dev/null || true
systemctl reset-failed "$2" 2>/dev/null || true
rm -f "/etc/systemd/system/$1" "/etc/systemd/system/$2" "$3" /etc/ferry/backup/"$4".redis-*.auth
systemctl daemon-reload`;

const removeCommand = (stack: string) =>
  script(REMOVE, unitName(stack, 'timer'), unitName(stack, 'service'), runnerConfigPath(stack), stack);

const VERIFY_UNITS = (stack: string) =>
  cmd('systemd-analyze', 'verify', unitPath(stack, 'service'), unitPath(stack, 'timer'));

export function scheduleStep(i: ScheduleStepInput): Step<Observed> {
  const timer = unitName(i.stack, 'timer');
  return {
    id: `${i.stack}/backup/schedule`,
    host: i.server,
    phase: 'prepare',
    title: i.schedule ? `backup schedule ${i.schedule} on ${i.server}` : `no backup schedule on ${i.server}`,
    dependsOn: i.dependsOn,
    doc: () => ({
      purpose: i.schedule
        ? `A systemd timer (OnCalendar=${i.schedule}, Persistent=true) runs ${RUNNER_PATH} ${i.stack} on the server, without Ferry: every source into each repository, the manifest, retention, the metrics file.`
        : 'No schedule is configured: a timer left by an earlier one is removed.',
      commands: i.schedule
        ? [
            `write ${RUNNER_PATH}, ${runnerConfigPath(i.stack)} and ${unitPath(i.stack, 'service')}, ${unitPath(i.stack, 'timer')}`,
            `systemctl daemon-reload && systemctl enable ${timer} && systemctl restart ${timer}`,
          ]
        : [render(removeCommand(i.stack))],
      verify: i.schedule ? `${render(VERIFY_UNITS(i.stack))}; systemctl is-active ${timer}` : `no ${timer}`,
      undo: 'none: remove `schedule` (or set it to false) and run again to take the timer away',
    }),
    async check(ctx) {
      const o = await observe(ctx, i);
      return settled(o, i.schedule !== undefined)
        ? { needed: false, observed: o }
        : { needed: true, change: { summary: summary(i, o) }, observed: o };
    },
    async apply(ctx, o) {
      if (i.schedule === undefined) await ctx.transport.exec(removeCommand(i.stack), { sudo: i.sudo, check: true });
      else await install(ctx, i, i.schedule, o);
    },
    async verify(ctx) {
      const o = await observe(ctx, i);
      if (!settled(o, i.schedule !== undefined))
        return { ok: false, message: `${i.server}: ${summary(i, o)} is still to do (timer ${o.timer})` };
      if (i.schedule === undefined) return { ok: true };
      const v = await ctx.transport.exec(VERIFY_UNITS(i.stack), { sudo: i.sudo });
      return v.code === 0
        ? { ok: true }
        : { ok: false, message: `${i.server}: systemd-analyze verify: ${v.stderr.trim().slice(-400)}` };
    },
    rollback: async () => undefined,
  };
}
