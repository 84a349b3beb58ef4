/**
 * What a command works on: a fleet file with every stack's Compose project loaded, or
 * compose files given with `--compose` as one stack on no server. Collects every
 * secret value met on the way (`core/secret-places.ts`), even in files that could not be
 * used, for the output redactor to know before anything is printed.
 */
import { basename, dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { atKeyPath, hasErrors, type Finding } from '../core/finding.js';
import { UsageError } from '../core/errors.js';
import { loadComposeProject } from '../compose/load.js';
import { projectName } from '../compose/project-name.js';
import type { Env } from '../compose/project-env.js';
import { loadFleetFile } from '../fleet/load.js';
import { DEFAULT_DEPLOY, type Fleet } from '../model/fleet.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';

export interface WorkspaceOptions {
  fleetFile?: string;
  compose?: string[];
  envFile?: string;
  profiles?: string[];
  cwd: string;
  env: Env;
}

export interface Workspace {
  /** undefined when not even the fleet file could be read; `findings` then say why. */
  loaded?: LoadedFleet;
  findings: Finding[];
  secrets: string[];
  /** True when some input could not be read at all (exit code 2). */
  unreadable: boolean;
}

export function loadWorkspace(opts: WorkspaceOptions): Workspace {
  if (opts.fleetFile && opts.compose && opts.compose.length > 0)
    throw new UsageError(
      'give either -f FLEET or --compose FILE, not both',
      'Use -f ferry.yml for a fleet, or --compose for a quick look at one stack.',
    );
  if (opts.compose && opts.compose.length > 0) return fromCompose(opts);
  if (opts.envFile)
    throw new UsageError(
      '--env-file goes with --compose; with a fleet file, each stack names its own env file',
      'Set `env_file:` on the stack in ferry.yml (docs/fleet-file.md), or use --compose with --env-file.',
      '--env-file',
    );
  const fleetFile = opts.fleetFile ?? (existsSync(resolve(opts.cwd, 'ferry.yml')) ? 'ferry.yml' : undefined);
  if (!fleetFile)
    throw new UsageError(
      'no fleet file: ferry.yml not found in this directory',
      'Pass -f path/to/ferry.yml, or --compose docker-compose.yml for one stack.',
    );
  const f = loadFleetFile(resolve(opts.cwd, fleetFile), { cwd: opts.cwd });
  if (!f.fleet) return { findings: f.findings, secrets: f.secrets, unreadable: true };
  const secrets: string[] = [...f.secrets];
  let unreadable = false;
  const stacks: LoadedStack[] = Object.values(f.fleet.stacks).map((def) => {
    const r = loadComposeProject({
      files: def.compose,
      cwd: opts.cwd,
      env: opts.env,
      ...(def.envFile ? { envFiles: [def.envFile] } : {}),
      ...((opts.profiles ?? def.profiles) ? { profiles: opts.profiles ?? def.profiles } : {}),
      ...(def.project ? { projectName: def.project } : {}),
    });
    secrets.push(...r.secrets);
    if (!r.project) unreadable = true;
    return {
      def,
      ...(r.project ? { project: r.project } : {}),
      findings: r.findings.map((x) => ({ ...x, stack: def.name })),
    };
  });
  return {
    loaded: { fleet: f.fleet, stacks, findings: f.findings },
    findings: [],
    secrets,
    unreadable: unreadable || hasErrors(f.findings.filter((x) => x.code !== 'unknown-reference')),
  };
}

function fromCompose(opts: WorkspaceOptions): Workspace {
  const files = opts.compose!.map((c) => resolve(opts.cwd, c));
  const r = loadComposeProject({
    files,
    cwd: opts.cwd,
    env: opts.env,
    ...(opts.envFile ? { envFiles: [opts.envFile] } : {}),
    ...(opts.profiles ? { profiles: opts.profiles } : {}),
  });
  const name = r.project?.name ?? projectName(basename(dirname(files[0]!)));
  const fleet: Fleet = {
    servers: {},
    stacks: { [name]: { name, compose: files, connections: [], deploy: DEFAULT_DEPLOY } },
    locate: atKeyPath,
  };
  const stack: LoadedStack = {
    def: fleet.stacks[name]!,
    ...(r.project ? { project: r.project } : {}),
    findings: r.findings.map((x) => ({ ...x, stack: name })),
  };
  return {
    loaded: { fleet, stacks: [stack], findings: [] },
    findings: [],
    secrets: r.secrets,
    unreadable: !r.project,
  };
}
