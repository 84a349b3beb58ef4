/**
 * The step that puts a stack's backup and drill schedules on its server, or takes them
 * away: the runner, the stack's configuration, each Redis password the runner needs
 * (mode 600), a service and a timer per scheduled job; jq installed; each timer enabled
 * and started. Only files whose hash differs are written. Each calendar is checked by
 * systemd-analyze on the server before anything is written; the units by `systemd-analyze
 * verify` after. A job without a calendar has its timer and units removed.
 */
import { createHash } from 'node:crypto';
import { Secret } from '../core/secret.js';
import type { Step, StepContext } from '../engine/step.js';
import { StepError } from '../engine/errors.js';
import { projectContainers } from '../deploy/containers.js';
import { cmd, render, script } from '../shell/command.js';
import { aptInstall } from '../deploy/steps/packages.js';
import { redisAuthPath, runnerConfigPath, RUNNER_PATH } from './runner.js';
import { redisPasswordOf } from './run.js';
import type { BackupKind } from '../model/backup.js';
import {
  kindOf,
  scheduleFiles,
  TIMER_KEYS,
  unitName,
  unitPath,
  wantedTimers,
  type Job,
  type ScheduleFile,
  type ScheduleInput,
  type TimerKey,
} from './schedule.js';

export interface ScheduleStepInput extends ScheduleInput {
  server: string;
  sudo: boolean;
  dependsOn: string[];
  /**
   * Only keep an installed schedule in step with the stack (`ferry apply`): a server where
   * `ferry backup run` never put one (no configuration) is left alone.
   */
  refreshOnly?: boolean;
}

interface Observed {
  /** Paths whose content differs from what Ferry would write (or that are missing). */
  differs: string[];
  /** Redis password files the runner no longer needs. */
  stale: string[];
  jq: boolean;
  /** `enabled/active` and the like, per timer. */
  timers: Partial<Record<TimerKey, string>>;
  /** Timers without a calendar whose units are still there. */
  remove: TimerKey[];
  /** refreshOnly, and nothing installed: nothing to do. */
  absent?: boolean;
}

/** $1 the stack; then the paths whose hashes are wanted. */
const STATE = `s=$1; shift
for f; do h=$(sha256sum -- "$f" 2>/dev/null) && echo "sum \${h%% *} $f"; done
command -v jq >/dev/null && echo jq
timer() {
  echo "timer $1 $(systemctl is-enabled "$2" 2>/dev/null || true)/$(systemctl is-active "$2" 2>/dev/null || true)"
  test -f "/etc/systemd/system/$2" && echo "unit $1"
}
${TIMER_KEYS.map((k) => `timer ${k} "${unitName('$s', 'timer', k)}"`).join('\n')}
test -f "/etc/ferry/backup/$s.json" && echo config
true`;

const INSTALL_JQ = aptInstall(['jq']);
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const wantedJobs = (i: ScheduleStepInput): TimerKey[] => wantedTimers(i.calendars);

/** A file to write: its content (a password as a Secret) and the hash it must have. */
interface Wanted extends Omit<ScheduleFile, 'content'> {
  content: string | Secret;
  sum: string;
}

async function redisAuth(ctx: StepContext, i: ScheduleStepInput) {
  const wanted: Wanted[] = [];
  const unneeded: string[] = [];
  if (i.sources.redis.length === 0) return { wanted, unneeded };
  const containers = await projectContainers(ctx.transport, i.sources.project, i.sudo);
  for (const r of i.sources.redis) {
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

async function wantedFiles(ctx: StepContext, i: ScheduleStepInput) {
  const files: Wanted[] = scheduleFiles(i).map((f) => ({ ...f, sum: sha(f.content) }));
  const auth = await redisAuth(ctx, i);
  return { files: [...files, ...auth.wanted], unneeded: auth.unneeded };
}

const KEYS = TIMER_KEYS.map((k) => k.replace('.', '\\.')).join('|');
const TIMER_LINE = new RegExp(`^timer (${KEYS}) (.*)$`);
const UNIT_LINE = new RegExp(`^unit (${KEYS})$`);

async function readState(ctx: StepContext, i: ScheduleStepInput, paths: string[]) {
  const r = await ctx.transport.exec(script(STATE, i.stack, ...paths), { sudo: i.sudo });
  const sums = new Map<string, string>();
  const timers: Partial<Record<TimerKey, string>> = {};
  const units: TimerKey[] = [];
  for (const l of r.stdout.split('\n')) {
    const sum = /^sum ([0-9a-f]{64}) (.+)$/.exec(l);
    if (sum) sums.set(sum[2]!, sum[1]!);
    const timer = TIMER_LINE.exec(l);
    if (timer) timers[timer[1] as TimerKey] = timer[2]!;
    const unit = UNIT_LINE.exec(l);
    if (unit) units.push(unit[1] as TimerKey);
  }
  return { sums, timers, units, jq: /^jq$/m.test(r.stdout), config: /^config$/m.test(r.stdout) };
}

const DOING: Record<Job, string> = {
  backup: 'a backup run',
  drill: 'a restore drill',
  check: 'a check of every repository (restic check --read-data-subset)',
};
const doing = (k: TimerKey): string => (kindOf(k) ? `a backup of the ${kindOf(k)} alone` : DOING[k as Job]);
const KEY: Record<Job, string> = { backup: 'schedule', drill: 'drill', check: 'check' };
/** The key of ferry.yml that gives a timer its calendar. */
const keyOf = (k: TimerKey): string => (kindOf(k) ? `schedule/${kindOf(k)}` : KEY[k as Job]);

/** Whether the stack has a source of the kind. */
function hasKind(i: ScheduleStepInput, kind: BackupKind): boolean {
  return kind === 'release' ? i.sources.release : i.sources[kind].length > 0;
}

async function validCalendars(ctx: StepContext, i: ScheduleStepInput): Promise<void> {
  const idle = wantedJobs(i).find((j) => kindOf(j) && !hasKind(i, kindOf(j)!));
  if (idle)
    throw new StepError(
      'backup-schedule-invalid',
      `${i.server}: ${i.stack}'s backups have a schedule of their own for ${kindOf(idle)}, but back up no ${kindOf(idle)}: its timer would have nothing to do`,
      `Take \`${kindOf(idle)}\` out of \`backups.schedule\`, or back up a source of that kind.`,
      `stacks/${i.stack}/backups/schedule/${kindOf(idle)}`,
    );
  for (const j of wantedJobs(i)) {
    const calendar = i.calendars[j]!;
    const r = await ctx.transport.exec(cmd('systemd-analyze', 'calendar', '--', calendar), { sudo: i.sudo });
    if (r.code !== 0)
      throw new StepError(
        'backup-schedule-invalid',
        `${i.server}: systemd does not accept the ${keyOf(j).replace('/', ' ')} "${calendar}" of ${i.stack}'s backups: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`,
        `Give \`backups.${keyOf(j).replace('/', '.')}\` a systemd calendar expression: daily, hourly, weekly, "*-*-* 03:00", "Mon..Fri 02:30" (see \`man systemd.time\`); \`systemd-analyze calendar EXPR\` on the server checks one.`,
        `stacks/${i.stack}/backups/${keyOf(j)}`,
      );
  }
}

async function observe(ctx: StepContext, i: ScheduleStepInput): Promise<Observed> {
  if (i.refreshOnly) {
    const s = await readState(ctx, i, []);
    if (!s.config && s.units.length === 0)
      return { differs: [], stale: [], jq: s.jq, timers: s.timers, remove: [], absent: true };
  }
  await validCalendars(ctx, i);
  const wanted = wantedJobs(i);
  const { files, unneeded } =
    wanted.length > 0 ? await wantedFiles(ctx, i) : { files: [] as Wanted[], unneeded: [] as string[] };
  const s = await readState(ctx, i, [...files.map((f) => f.path), ...unneeded]);
  return {
    differs: files.filter((f) => s.sums.get(f.path) !== f.sum).map((f) => f.path),
    stale: unneeded.filter((p) => s.sums.has(p)),
    jq: s.jq,
    timers: s.timers,
    remove: s.units.filter((j) => !wanted.includes(j)),
  };
}

function settled(i: ScheduleStepInput, o: Observed): boolean {
  const wanted = wantedJobs(i);
  return (
    o.absent === true ||
    (o.differs.length === 0 &&
      o.stale.length === 0 &&
      o.remove.length === 0 &&
      (wanted.length === 0 || o.jq) &&
      wanted.every((j) => o.timers[j] === 'enabled/active'))
  );
}

function summary(i: ScheduleStepInput, o: Observed): string {
  const parts = [
    ...(wantedJobs(i).length > 0 && !o.jq ? ['install jq'] : []),
    ...(o.differs.length > 0 ? [`write ${o.differs.length} file(s)`] : []),
    ...(o.stale.length > 0 ? [`remove ${o.stale.length} Redis password file(s) no longer needed`] : []),
    ...wantedJobs(i).map(
      (j) => `timer ${unitName(i.stack, 'timer', j)} enabled and started (OnCalendar=${i.calendars[j]})`,
    ),
    ...o.remove.map((j) => `remove the timer ${unitName(i.stack, 'timer', j)} (no ${keyOf(j)} configured)`),
  ];
  return parts.join(', ');
}

/** $1 the timer, $2 the service: disabled, forgotten, their files removed. */
const REMOVE_JOB = `systemctl disable --now "$1" 2>/dev/null || true
systemctl reset-failed "$2" 2>/dev/null || true
rm -f "/etc/systemd/system/$1" "/etc/systemd/system/$2"`;
const removeJob = (stack: string, j: TimerKey) =>
  script(REMOVE_JOB, unitName(stack, 'timer', j), unitName(stack, 'service', j));
/** With no job left: the stack's configuration and Redis password files. */
const removeConfig = (stack: string) =>
  script('rm -f "$1" /etc/ferry/backup/"$2".redis-*.auth', runnerConfigPath(stack), stack);

async function apply(ctx: StepContext, i: ScheduleStepInput, o: Observed): Promise<void> {
  const t = ctx.transport;
  const run = (c: ReturnType<typeof script>) => t.exec(c, { sudo: i.sudo, check: true });
  for (const j of o.remove) await run(removeJob(i.stack, j));
  const wanted = wantedJobs(i);
  if (wanted.length === 0) {
    await run(removeConfig(i.stack));
    await run(script('systemctl daemon-reload'));
    return;
  }
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
  const { files } = await wantedFiles(ctx, i);
  await run(script('install -d -m 755 "$1"', RUNNER_PATH.slice(0, RUNNER_PATH.lastIndexOf('/'))));
  for (const f of files)
    if (o.differs.includes(f.path)) await t.upload(f.path, f.content, { mode: f.mode, sudo: i.sudo });
  if (o.stale.length > 0) await run(script('rm -f -- "$@"', ...o.stale));
  await run(script('systemctl daemon-reload'));
  for (const j of wanted)
    await run(script('systemctl enable "$1" && systemctl restart "$1"', unitName(i.stack, 'timer', j)));
}

const verifyUnits = (i: ScheduleStepInput) =>
  cmd(
    'systemd-analyze',
    'verify',
    ...wantedJobs(i).flatMap((j) => [unitPath(i.stack, 'service', j), unitPath(i.stack, 'timer', j)]),
  );

export function scheduleStep(i: ScheduleStepInput): Step<Observed> {
  const wanted = wantedJobs(i);
  return {
    id: `${i.stack}/backup/schedule`,
    host: i.server,
    // After a deploy (refresh only) it comes last; before the backups, first.
    phase: i.refreshOnly ? 'verify' : 'prepare',
    title: i.refreshOnly
      ? `backup schedule of ${i.stack} kept in step with the stack (when \`ferry backup run\` installed one)`
      : wanted.length > 0
        ? `backup schedule ${wanted.map((j) => `${j} ${i.calendars[j]}`).join(', ')} on ${i.server}`
        : `no backup schedule on ${i.server}`,
    dependsOn: i.dependsOn,
    doc: () => ({
      purpose:
        wanted.length > 0
          ? `Systemd timers (Persistent=true) run ${RUNNER_PATH} on the server, without Ferry: ${wanted.map((j) => `${doing(j)} at ${i.calendars[j]}`).join(', ')}.`
          : 'No schedule is configured: timers left by an earlier one are removed.',
      commands: [
        ...(wanted.length > 0
          ? [
              `write ${RUNNER_PATH}, ${runnerConfigPath(i.stack)} and ${wanted.map((j) => `${unitPath(i.stack, 'service', j)}, ${unitPath(i.stack, 'timer', j)}`).join(', ')}`,
              ...wanted.map(
                (j) =>
                  `systemctl enable ${unitName(i.stack, 'timer', j)} && systemctl restart ${unitName(i.stack, 'timer', j)}`,
              ),
            ]
          : [render(removeConfig(i.stack))]),
        ...TIMER_KEYS.filter((j) => !wanted.includes(j)).map((j) => `when present: ${render(removeJob(i.stack, j))}`),
      ],
      verify:
        wanted.length > 0
          ? `${render(verifyUnits(i))}; each timer enabled and active`
          : 'no timer of the stack is left',
      undo: 'none: remove `schedule`, `drill` and `check` (or set them to false) and run again to take the timers away',
    }),
    async check(ctx) {
      const o = await observe(ctx, i);
      return settled(i, o)
        ? { needed: false, observed: o }
        : { needed: true, change: { summary: summary(i, o) }, observed: o };
    },
    apply: (ctx, o) => apply(ctx, i, o),
    async verify(ctx) {
      const o = await observe(ctx, i);
      if (!settled(i, o)) return { ok: false, message: `${i.server}: ${summary(i, o)} is still to do` };
      if (wanted.length === 0) return { ok: true };
      const v = await ctx.transport.exec(verifyUnits(i), { sudo: i.sudo });
      return v.code === 0
        ? { ok: true }
        : { ok: false, message: `${i.server}: systemd-analyze verify: ${v.stderr.trim().slice(-400)}` };
    },
    rollback: async () => undefined,
  };
}
