/**
 * The `ferry` command line. Parses flags with commander, runs a command, and turns
 * every failure into a message with a code and a hint: never a stack trace.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { regularFileProblem } from '../core/files.js';
import { Redactor } from '../core/redact.js';
import { checkCommand, inventoryCommand, type InputFlags } from './commands.js';
import { monitoringRenderCommand, type MonitoringFlags } from './monitoring.js';
import { watchCommand } from './watch.js';
import type { WatchFlags } from './watch-input.js';
import { redacting, type CliIo, type Io } from './io.js';
import { UsageError } from '../core/errors.js';
import { processIo } from './process-io.js';
import { buffering, finish, jsonRequested } from './outcome.js';
import { failureOf, type Failure } from './report.js';
import { listRunsCommand, showRunCommand, type RunsFlags } from './runs.js';
import { lockReleaseCommand, lockStatusCommand, type LockFlags } from './lock.js';
import { applyCommand, planCommand, type PlanFlags } from './apply.js';
import type { ApplyFlags } from './run-plan.js';
import { restoreCommand, type RestoreFlags } from './restore.js';
import { recoverCommand, type RecoverFlags } from './recover.js';
import { rollbackCommand, type RollbackFlags } from './rollback.js';
import { migrateCommand, retireCommand, type MigrateFlags, type RetireFlags } from './migrate.js';
import { migrateStatusCommand } from './migrate-status.js';
import {
  backupDrillCommand,
  backupListCommand,
  backupRunCommand,
  backupStatusCommand,
  type BackupFlags,
} from './backup.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/**
 * Whether an argument of `apply` names a saved plan rather than a stack: a file that exists
 * (whatever its name: `plan --out myplan`), or a name no stack can have (`plan.json`, `out/p`).
 */
function isSavedPlan(arg: string, cwd: string): boolean {
  return /[./\\]/.test(arg) || regularFileProblem(resolve(cwd, arg), arg) === undefined;
}

function inputOptions(cmd: Command): Command {
  cmd
    .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
    .option('--compose <file>', 'a compose file, instead of a fleet file (repeat for overrides, in order)', collect)
    .option('--env-file <file>', 'env file for --compose, instead of the project .env')
    .addOption(
      new Option('--profile <name>', 'activate a compose profile (repeatable; default: COMPOSE_PROFILES)').argParser(
        collect,
      ),
    )
    .option('--json', 'print data as JSON')
    .option('--live', 'also read the servers over SSH (facts, ports in use, memory, certificates, disks)');
  return sshOptions(cmd);
}

function sshOptions(cmd: Command): Command {
  return cmd
    .option('-i, --identity <key>', 'private key for servers without identity_file')
    .option(
      '--known-hosts <file>',
      'known_hosts file to verify host keys against (repeatable; default ~/.ssh/known_hosts)',
      collect,
    )
    .option(
      '--trust-new-host-key',
      'record the key of a host seen for the first time (a changed key is always refused)',
    )
    .option('--connect-timeout <seconds>', 'TCP connect and SSH handshake timeout per server (default 10)')
    .option('--ssh-config <file>', 'ssh config to resolve host aliases with (default ~/.ssh/config)');
}

/** Records the exit code of the command that ran. */
type Done = (code: number) => void;

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const done: Done = (c) => {
    code = c;
  };
  const json = jsonRequested(argv);
  const redactor = new Redactor();
  const kept = buffering(io);
  const cli = redacting(json ? kept.io : io, redactor);
  const program = new Command('ferry')
    .description('Plan, apply and verify deployments and migrations of Docker Compose stacks on VPS fleets.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => cli.out(s), writeErr: (s) => cli.err(s), outputError: () => undefined })
    .showSuggestionAfterError(true);

  readCommands(program, cli, done);
  deployCommands(program, cli, done);
  migrateCommands(program, cli, done);
  runsCommands(program, cli, done);
  lockCommands(program, cli, done);
  monitoringCommands(program, cli, done);
  backupCommands(program, cli, done);

  let failure: Failure | undefined;
  let thrown: unknown;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    thrown = e;
    failure = failureOf(e);
  }
  return finish({ io, redactor, json, kept: kept.take(), code, failure, thrown });
}

/** Commands that read the fleet file (and, with --live, the servers): they change nothing. */
function readCommands(program: Command, io: CliIo, done: Done): void {
  inputOptions(
    program
      .command('inventory')
      .description(
        'list stacks, services, ports, limits and totals per server (from files; with --live, what really runs on each server)',
      ),
  ).action(async (flags: InputFlags) => {
    done(await inventoryCommand(flags, io));
  });
  inputOptions(
    program
      .command('check')
      .description(
        'report port conflicts, capacity, exposed ports, plaintext secrets and other findings (with --live, against the servers too)',
      ),
  ).action(async (flags: InputFlags) => {
    done(await checkCommand(flags, io));
  });
}

/** Commands that plan, apply and roll back deployments. */
function deployCommands(program: Command, io: CliIo, done: Done): void {
  sshOptions(
    program
      .command('plan [stacks...]')
      .description('read the servers and show what apply would change, step by step (all stacks when none is named)')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--json', 'print the plan as JSON')
      .option(
        '--markdown',
        'print the plan as a runbook to approve: purpose, exact commands, verification and undo of each step',
      )
      .option('--out <plan.json>', 'save the plan, tied to the facts it was made from, for `ferry apply plan.json`'),
  ).action(async (stacks: string[], flags: PlanFlags) => {
    done(await planCommand(stacks, flags, io));
  });
  sshOptions(
    program
      .command('apply [plan-or-stacks...]')
      .description(
        'deploy stacks to their servers: a saved plan (refused if the servers changed since), or the named stacks (all when none) planned afresh',
      )
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('-y, --yes', 'apply without asking')
      .option('--resume', 'continue the last run that was interrupted (its server locks are taken over)')
      .option('--json', 'print only a JSON summary: {"changed", "ok", "failed", "skipped", "run"}'),
  ).action(async (args: string[], flags: ApplyFlags) => {
    const planFile = args[0] !== undefined && isSavedPlan(args[0], io.cwd) ? args[0] : undefined;
    done(await applyCommand(planFile, planFile ? args.slice(1) : args, flags, io));
  });
  sshOptions(
    program
      .command('rollback <stack>')
      .description('return a stack to its previous release (kept on the server by every deploy)')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--to <release>', 'a release id to return to (default: the one before the current)')
      .option(
        '--discard-target-writes',
        "after a migration: serve the source's data as it was at the move, dropping what the target wrote since (by default it is carried back first)",
      )
      .option('-y, --yes', 'roll back without asking')
      .option('--json', 'print only a JSON summary'),
  ).action(async (stack: string, flags: RollbackFlags) => {
    done(await rollbackCommand(stack, flags, io));
  });
}

/** Commands that move a stack to another server, and clean up after. */
function migrateCommands(program: Command, io: CliIo, done: Done): void {
  sshOptions(
    program
      .command('migrate <stack>')
      .description(
        'move a deployed stack with its data to another server: preflight, copy while running, freeze, final copy, databases by dump, verify, cut over; the source is kept, stopped',
      )
      .option('--to <server>', 'the server to move the stack to (a server of the fleet file)')
      .option('--status', 'show where a migration of the stack stands and what it left, changing nothing')
      .option(
        '--service <service>',
        'move only this Postgres service of the stack, with its database (e.g. to a database server); the rest stays and is pointed at it',
      )
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option(
        '--mode <mode>',
        'how databases move: dump (default; writers stop while they are copied) or replicate (logical replication while the stack runs)',
      )
      .option('--dry-run', 'print the plan and stop')
      .option('--markdown', 'print the plan as a runbook and stop')
      .option('-y, --yes', 'migrate without asking')
      .option('--resume', "continue this migration's run that was interrupted (refused when there is none)")
      .option(
        '--json',
        'print only the report: {"downtime_ms", "bytes_transferred", "transferred", "duration_ms", "verified": {...}}',
      ),
  ).action(async (stack: string, flags: MigrateFlags & { status?: boolean }) => {
    if (flags.status) return done(await migrateStatusCommand(stack, flags, io));
    if (flags.to === undefined)
      throw new UsageError(
        "required option '--to <server>' not specified",
        'Name the server to move the stack to (`--to SERVER`), or ask where a migration stands with --status.',
      );
    done(await migrateCommand(stack, flags, io));
  });

  sshOptions(
    program
      .command('retire <stack>')
      .description(
        "after a migration's rollback window: delete what the stack left on its old server (containers, volumes, releases, nginx site)",
      )
      .requiredOption('--from <server>', 'the server the stack was moved away from')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('-y, --yes', 'delete without asking')
      .option('--json', 'print only a JSON summary'),
  ).action(async (stack: string, flags: RetireFlags) => {
    done(await retireCommand(stack, flags, io));
  });
}

/** Commands that read the journal. */
function runsCommands(program: Command, io: CliIo, done: Done): void {
  const runs = program
    .command('runs')
    .description('list the runs the journal recorded (in FERRY_STATE_DIR), newest first')
    .option('--json', 'print data as JSON')
    .option('--limit <n>', 'at most this many runs (default 20)')
    .action((flags: RunsFlags) => {
      done(listRunsCommand(flags, io));
    });
  runs
    .command('show <id>')
    .description('print every event of a run, one per line')
    .option('--json', 'print data as JSON')
    // `--json` after the id is parsed by `runs` too: read both.
    .action((id: string, _flags: RunsFlags, cmd: Command) => {
      done(showRunCommand(id, cmd.optsWithGlobals<RunsFlags>(), io));
    });
}

/** Commands on a stack's lock on its server. */
function lockCommands(program: Command, io: CliIo, done: Done): void {
  const lock = program
    .command('lock')
    .description("look at or free a stack's lock on its server (held while an apply runs)");
  sshOptions(
    lock
      .command('status <stack>')
      .description('who holds the lock of a stack, if anyone')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--json', 'print data as JSON'),
  ).action(async (stack: string, flags: LockFlags) => {
    done(await lockStatusCommand(stack, flags, io));
  });
  sshOptions(
    lock
      .command('release <stack>')
      .description('free a stale lock; --id must name the run that holds it')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .requiredOption('--id <run>', 'the run id the lock names (see ferry lock status)'),
  ).action(async (stack: string, flags: LockFlags) => {
    done(await lockReleaseCommand(stack, flags, io));
  });
}

/** Commands about the monitoring of the fleet (docs/monitoring.md). */
function monitoringCommands(program: Command, io: CliIo, done: Done): void {
  sshOptions(
    program
      .command('watch [stacks-or-servers...]')
      .description(
        'watch stacks and servers over SSH (CPU, memory, disks, containers, HTTP checks, error lines in logs) against the thresholds, send alerts to the receivers, and write a report; changes nothing',
      )
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--for <duration>', 'how long to watch (e.g. 30m, 72h, 3d; default 72h)')
      .option('--every <duration>', 'time between samples (at least 5s; default 60s)')
      .option('--report <file>', 'where to write the report (default: the state directory, watch/)')
      .option('--json', 'print each alert and the report as JSON lines')
      .option('--install', 'install the watch on the servers as a systemd timer: it runs while this machine is off')
      .option('--status', 'what the watch installed on the servers saw')
      .option('--remove', 'take the installed watch away (what it saw stays on the servers)')
      .option('--name <name>', 'the installed watch (default: from the names watched)'),
  ).action(async (names: string[], flags: WatchFlags) => {
    done(await watchCommand(names, flags, io));
  });
  const monitoring = program.command('monitoring').description('the monitoring configuration generated from the fleet');
  monitoring
    .command('render')
    .description(
      'write the generated Prometheus, Alertmanager, blackbox and Grafana files and the container health units into a directory',
    )
    .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
    .requiredOption('--out <dir>', 'directory to write into (created if missing)')
    .option('--json', 'print what was written as JSON')
    .action((flags: MonitoringFlags) => {
      done(monitoringRenderCommand(flags, io));
    });
}

/** Backups of stacks with restic: make them, list them, prove them. */
function backupCommands(program: Command, io: CliIo, done: Done): void {
  const backup = program
    .command('backup')
    .description('back up stacks with restic, list the backups, prove they restore');
  const common = (c: Command) =>
    sshOptions(
      c.option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)').option('--json', 'print data as JSON'),
    );
  common(
    backup
      .command('run <stack>')
      .description(
        'back up a stack now (restic installed and its repositories created when missing), with a manifest of what it holds',
      ),
  ).action(async (stack: string, flags: BackupFlags) => {
    done(await backupRunCommand(stack, flags, io));
  });
  common(backup.command('list <stack>').description("a stack's backup runs in each repository, newest first")).action(
    async (stack: string, flags: BackupFlags) => {
      done(await backupListCommand(stack, flags, io));
    },
  );
  common(
    backup
      .command('drill <stack>')
      .description(
        "restore the latest backup into scratch containers on the stack's server and prove every row, key and file against its manifest; everything made is removed",
      )
      .option('--repository <name>', 'the repository to restore from (default: the first)'),
  ).action(async (stack: string, flags: BackupFlags) => {
    done(await backupDrillCommand(stack, flags, io));
  });
  common(
    backup
      .command('status [stacks...]')
      .description(
        'the last good backup of each stack in each repository, and its age; a repository that cannot be read is an error',
      ),
  ).action(async (stacks: string[], flags: BackupFlags) => {
    done(await backupStatusCommand(stacks, flags, io));
  });
  sshOptions(
    program
      .command('restore <stack>')
      .description(
        'put a backup run back into a stack on its server: restored beside the live data and proven, then swapped in (the live data kept aside), then proven again; only what differs is restored',
      )
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--run <id>', 'the backup run to restore (default: the latest complete one; `ferry backup list`)')
      .option(
        '--to <server>',
        'restore into the stack deployed on another server of the fleet (it is given restic, the password and an SSH key to the repository first)',
      )
      .option('--repository <name>', 'the repository to restore from (default: the first)')
      .option('--dry-run', 'print the plan and change nothing')
      .option('--resume', 'finish the restore a crash or kill stopped')
      .option('-y, --yes', 'restore without asking')
      .option('--json', 'print the report as JSON'),
  ).action(async (stack: string, flags: RestoreFlags) => {
    done(await restoreCommand(stack, flags, io));
  });
  sshOptions(
    program
      .command('recover <stack>')
      .description(
        'bring a stack back on another server when its own is gone: deployed there, then its latest backup restored from an off-site repository and proven; the old server is never contacted',
      )
      .requiredOption('--to <server>', 'the server to recover onto (a server of ferry.yml)')
      .option('-f, --file <ferry.yml>', 'fleet file (default: ./ferry.yml)')
      .option('--repository <name>', 'the repository to restore from (default: the first on another server)')
      .option('--run <id>', 'the backup run to restore (default: the latest complete one)')
      .option('--dry-run', 'print the deploy plan and change nothing')
      .option('--resume', 'finish a recovery a crash or kill stopped')
      .option('-y, --yes', 'recover without asking')
      .option('--json', 'print the report as JSON'),
  ).action(async (stack: string, flags: RecoverFlags) => {
    done(await recoverCommand(stack, flags, io));
  });
}
