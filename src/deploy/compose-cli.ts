/**
 * Compose on a server: the plugin (`docker compose`, v2) or the standalone
 * `docker-compose` (v1, Debian 12's package). Both take the same arguments for what
 * Ferry does; the commands run in the release directory with the project named.
 */
import { and, cmd, quiet, script, type Command } from '../shell/command.js';
import { releaseDir } from './layout.js';

export type ComposeFlavor = 'plugin' | 'standalone';

export const pluginVersionCommand: Command = quiet(cmd('docker', 'compose', 'version', '--short'));
export const standaloneVersionCommand: Command = quiet(cmd('docker-compose', 'version', '--short'));
export const dockerVersionCommand: Command = cmd('docker', 'version', '--format', '{{.Server.Version}}');

export interface ComposeCall {
  flavor: ComposeFlavor;
  /** The release directory: relative paths in the files resolve from here. */
  dir: string;
  project: string;
  /** Relative to `dir`, in override order. */
  files: string[];
  /** `--env-file` relative to `dir`, when the stack names one. */
  envFile?: string;
  profiles?: string[];
}

/** `cd DIR && docker compose -p P -f A -f B ARGS…` */
/** What names a release to Compose: its id (the directory), its files, its env file and profiles. */
export interface ReleaseRef {
  id: string;
  composeFiles: string[];
  envFile?: string;
  profiles?: string[];
}

/** Compose on a release of a stack, as deployed: in its directory, with its files, env file and profiles. */
export function releaseCall(stack: string, project: string, r: ReleaseRef, flavor: ComposeFlavor): ComposeCall {
  const c: ComposeCall = { flavor, dir: releaseDir(stack, r.id), project, files: r.composeFiles };
  if (r.envFile) c.envFile = r.envFile;
  if (r.profiles) c.profiles = r.profiles;
  return c;
}

export function compose(c: ComposeCall, ...args: string[]): Command {
  const base = c.flavor === 'plugin' ? ['docker', 'compose'] : ['docker-compose'];
  const opts = ['-p', c.project, ...c.files.flatMap((f) => ['-f', f])];
  if (c.envFile) opts.push('--env-file', c.envFile);
  for (const p of c.profiles ?? []) opts.push('--profile', p);
  return and(cmd('cd', c.dir), cmd(...base, ...opts, ...args));
}

/** Every container of a project, as `docker inspect` JSON (`[]` when there is none); fails as `docker ps` does, so that a Docker that cannot be used is never read as a project with no container. */
export function inspectProjectCommand(project: string): Command {
  const filter = `label=com.docker.compose.project=${project}`;
  return script(
    `ids=$(docker ps -aq --filter "$1") || exit; if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi`,
    filter,
  );
}
