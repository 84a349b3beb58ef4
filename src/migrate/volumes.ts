/**
 * Volume data copied from the source server to the target server with rsync, run on the
 * source through the migration channel: incremental (a second run sends only what
 * changed), keeping hard links, owners (by number), modes, ACLs and extended attributes,
 * and deleting on the target what the source no longer has. `check` is rsync's dry run;
 * `verify` compares checksum manifests computed on each server over Ferry's own
 * connections, independently of rsync.
 */
import { cmd, render, type Command } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import type { Phase, Step, StepContext } from '../engine/step.js';
import { destination, needsSudo, onTarget, sshOptions, type Channel } from './channel.js';
import { volumeManifest, type Manifest } from './manifest.js';
import { toolFailure } from '../tools/classify.js';

/** A directory to copy: a Docker volume's mountpoint, or a plain directory such as bind-mounted data. */
export interface VolumeCopy {
  name: string;
  sourcePath: string;
  targetPath: string;
}

export const mountpointCommand = (volume: string): Command =>
  cmd('docker', 'volume', 'inspect', '--format', '{{ .Mountpoint }}', volume);

/** Compose v1 names a project's volumes `<project>_<volume>`; the labels make Compose adopt it as its own. */
export const ensureVolumeCommand = (project: string, volume: string): Command =>
  cmd(
    'docker',
    'volume',
    'create',
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    `com.docker.compose.volume=${volume}`,
    `${project}_${volume}`,
  );

export async function volumeMountpoint(t: Transport, volume: string, sudo: boolean): Promise<string> {
  const r = await t.exec(mountpointCommand(volume), { sudo });
  const path = r.stdout.trim();
  if (r.code === 0 && path.startsWith('/')) return path;
  if (/No such volume/.test(r.stderr))
    throw new StepError(
      'volume-missing',
      `${t.name}: there is no Docker volume ${volume}`,
      `list the volumes on ${t.name} with \`docker volume ls\`; the stack must have run there once to have its volumes`,
    );
  const what = `reading the mountpoint of volume ${volume}`;
  throw (
    toolFailure('docker', r, { host: t.name, what, redact: (s) => s }) ??
    new StepError(
      'unexpected-output',
      `${t.name}: ${what}: docker printed no path`,
      'Check the volume with `docker volume inspect`.',
    )
  );
}

/**
 * rsync on the source. `--inplace`: the target is not in use during a migration, and
 * writing changed files in place needs no room for a second copy of the largest file (a
 * database's); an interrupted copy is repaired by the next run. `--numeric-ids`: users
 * and groups keep their numbers, which the containers rely on, not their names.
 */
export function syncCommand(ch: Channel, copy: VolumeCopy, dryRun = false): Command {
  return cmd(
    'rsync',
    ...(dryRun ? ['-n', '--itemize-changes'] : ['--stats']),
    '-aHAX',
    '--numeric-ids',
    '--delete',
    '--inplace',
    '-e',
    render(cmd(...sshOptions(ch))),
    ...(needsSudo(ch.target) ? ['--rsync-path=sudo -n rsync'] : []),
    `${copy.sourcePath}/`,
    `${destination(ch.target, true)}:${copy.targetPath}/`,
  );
}

export interface Itemized {
  send: number;
  delete: number;
  /** Directories, links and attributes to create or change. */
  other: number;
}

/** Counts the lines of `rsync --itemize-changes` (names with newlines come escaped as `\#012`). */
export function parseItemized(out: string): Itemized {
  const n: Itemized = { send: 0, delete: 0, other: 0 };
  for (const line of out.split('\n')) {
    if (line.startsWith('*deleting ')) n.delete += 1;
    else if (/^<f\S{9} /.test(line)) n.send += 1;
    else if (/^[<>ch.][fdLDS]\S{9} /.test(line)) n.other += 1;
  }
  return n;
}

export interface RsyncStats {
  /** On the wire, protocol included. */
  bytesSent: number;
  /** File data that had to be sent (the rest was matched on the target). */
  literal: number;
  filesTransferred: number;
}

export function parseRsyncStats(out: string): RsyncStats {
  const num = (label: string): number => {
    const m = new RegExp(`^${label}: ([\\d,]+)`, 'm').exec(out);
    if (!m) throw new Error(`no "${label}" in rsync's --stats output`);
    return Number(m[1]!.replace(/,/g, ''));
  };
  return {
    bytesSent: num('Total bytes sent'),
    literal: num('Literal data'),
    filesTransferred: num('Number of regular files transferred'),
  };
}

/** rsync's exit 24: files vanished on the source while it ran (the next run or verify catches up). */
const VANISHED = 24;

/** A failed rsync as a coded error (its exit status and what it means) with the next thing to do. */
export function syncError(
  ch: Channel,
  copy: VolumeCopy,
  code: number,
  stderr: string,
  redact: (s: string) => string = (s) => s,
): StepError {
  const r = { code, stderr };
  const lines = stderr.trim().split('\n').filter(Boolean);
  const where = `${copy.name} (${ch.source.name}:${copy.sourcePath} → ${ch.target.name}:${copy.targetPath})`;
  if (/No space left on device/.test(stderr)) {
    const tail = redact(lines.slice(-3).join(' / ') || `exit ${r.code}`);
    return new StepError(
      'no-space',
      `${ch.target.name}: no space left on device while copying ${where}: ${tail}`,
      `free space on ${ch.target.name} (\`df -h ${copy.targetPath}\`) or give it a larger disk, then run again: the copy goes on from where it stopped`,
    );
  }
  const classified = toolFailure(
    'rsync',
    { code: r.code === 0 ? 1 : r.code, stdout: '', stderr },
    { host: ch.source.name, what: `copying ${where}`, redact },
  )!;
  const hint =
    r.code === 255 || /connection unexpectedly closed|Permission denied|Host key verification/.test(stderr)
      ? `the channel from ${ch.source.name} to ${ch.target.name} broke: check it with \`${render(onTarget(ch, cmd('true')))}\` on ${ch.source.name}, then run again`
      : /rsync: (command )?not found/.test(stderr)
        ? `install rsync on ${ch.target.name} (\`apt-get install rsync\`), then run again`
        : `read rsync's message; a copy that stopped half-way goes on from where it stopped when run again`;
  return new StepError('sync-failed', classified.message, hint);
}

/** What rsync's dry run says one copy needs, or undefined when it is up to date. */
function dryRun(
  ch: Channel,
  copy: VolumeCopy,
  r: { code: number; stdout: string; stderr: string },
  redact: (s: string) => string,
): string | undefined {
  if (r.code !== 0 && /mkdir .* failed: No such file or directory/.test(r.stderr))
    return `${copy.name}: everything (${copy.targetPath} is not on ${ch.target.name} yet)`;
  if (r.code !== 0 && r.code !== VANISHED) throw syncError(ch, copy, r.code, r.stderr, redact);
  const n = parseItemized(r.stdout);
  return n.send + n.delete + n.other > 0
    ? `${copy.name}: ${n.send} files to send, ${n.delete} to delete, ${n.other} other changes`
    : undefined;
}

/** One rsync (a volume's copy): bounded, so that a dead link cannot hold the migration for ever. */
export const SYNC_TIMEOUT_MS = 24 * 3600_000;

export interface SyncStepOptions {
  id: string;
  ch: Channel;
  /**
   * A function is called at the step's check, e.g. to read mountpoints once the target
   * volumes exist; the step runs on the source and reaches the target (`ctx.on`).
   */
  copies: VolumeCopy[] | ((ctx: StepContext) => Promise<VolumeCopy[]>);
  /** @deprecated Not used: the step reaches both servers through its context. */
  source?: () => Transport;
  /** @deprecated Not used: the step reaches both servers through its context. */
  target?: () => Transport;
  phase: Phase;
  dependsOn: string[];
  title?: string;
  /** Called after each copy with the bytes rsync sent for it. */
  onBytes?: (n: number) => void;
  /**
   * The source is still in use while it is copied (a first copy before the writers stop):
   * a file written meanwhile (an upload, a Redis save) makes the manifests differ, so the
   * copy is proven complete only by rsync's own exit, and equal by the final copy.
   */
  live?: boolean;
}

/** What the check saw: the directories to copy (resolved once, at check), and those rsync's dry run found different. */
export interface SyncObserved {
  copies: VolumeCopy[];
  changed: string[];
}

export function syncStep(o: SyncStepOptions): Step<SyncObserved> {
  const { ch } = o;
  const copiesOf = (ctx: StepContext) => (Array.isArray(o.copies) ? Promise.resolve(o.copies) : o.copies(ctx));
  const rsync = (ctx: StepContext, c: Command) =>
    ctx.transport.exec(c, { sudo: ch.source.sudo, timeoutMs: SYNC_TIMEOUT_MS });
  const redact = (ctx: StepContext) => (s: string) => ctx.redactor.redact(s);
  const example: VolumeCopy = { name: 'VOLUME', sourcePath: 'SOURCE_PATH', targetPath: 'TARGET_PATH' };
  return {
    id: o.id,
    host: ch.source.name,
    reaches: [ch.target.name],
    phase: o.phase,
    title: o.title ?? `copy volumes of ${ch.stack} from ${ch.source.name} to ${ch.target.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Copy ${Array.isArray(o.copies) ? o.copies.map((c) => c.name).join(', ') : 'the volumes'} of ${ch.stack} from ${ch.source.name} straight to ${ch.target.name} over the migration channel, sending only what differs (each rsync stopped after ${SYNC_TIMEOUT_MS / 3600_000} h).`,
      commands: [`${render(syncCommand(ch, example))}  (on ${ch.source.name}, for each volume)`],
      verify: o.live
        ? 'rsync ended without error for each volume (the source is in use: the final copy, with the writers stopped, proves the manifests equal).'
        : `The checksum manifest (files, bytes, sha256 of every path, size and content hash) of each volume is equal on both servers.`,
      undo: `Nothing is undone: the copied data stays on ${ch.target.name}, where nothing uses it yet; removing the target volumes removes it.`,
    }),
    async check(ctx) {
      const copies = await copiesOf(ctx);
      const changes: string[] = [];
      const changed: string[] = [];
      for (const copy of copies) {
        const change = dryRun(ch, copy, await rsync(ctx, syncCommand(ch, copy, true)), redact(ctx));
        if (change) {
          changes.push(change);
          changed.push(copy.name);
        }
      }
      const observed = { copies, changed };
      return changes.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: changes.join('; ') }, observed };
    },
    async apply(ctx, { copies }) {
      for (const copy of copies) {
        const r = await rsync(ctx, syncCommand(ch, copy));
        if (r.code !== 0 && r.code !== VANISHED) throw syncError(ch, copy, r.code, r.stderr, redact(ctx));
        const sent = parseRsyncStats(r.stdout).bytesSent;
        ctx.transferred('volumes', sent);
        o.onBytes?.(sent);
      }
    },
    async verify(ctx, { copies }) {
      // apply threw on any rsync error: a live source has nothing more to prove here.
      if (o.live) return { ok: true };
      const wrong = (await compareCopies(ch, copies, ctx.transport, ctx.on(ch.target.name))).filter((c) => !same(c));
      return wrong.length === 0 ? { ok: true } : { ok: false, message: wrong.map(describeMismatch).join('; ') };
    },
    async rollback() {
      // See doc().undo: the target's copy is harmless and the step that made the volume owns it.
    },
  };
}

interface Compared {
  copy: VolumeCopy;
  source: Manifest;
  target: Manifest;
}

/** Manifests of each copy on both servers (the two servers at once, one copy after the other). */
async function compareCopies(
  ch: Channel,
  copies: VolumeCopy[],
  source: Transport,
  target: Transport,
): Promise<Compared[]> {
  const out: Compared[] = [];
  for (const copy of copies) {
    const [s, t] = await Promise.all([
      volumeManifest(source, copy.sourcePath, ch.source.sudo),
      volumeManifest(target, copy.targetPath, ch.target.sudo),
    ]);
    out.push({ copy, source: s, target: t });
  }
  return out;
}

const same = (c: Compared): boolean =>
  c.source.sha256 === c.target.sha256 && c.source.files === c.target.files && c.source.bytes === c.target.bytes;

const describeMismatch = (c: Compared): string =>
  `${c.copy.name}: ${c.source.files} files, ${c.source.bytes} bytes on the source; ${c.target.files} files, ${c.target.bytes} bytes on the target; the manifests differ`;

/** One volume's line in a migration's final report. */
export interface VolumeReport {
  name: string;
  /** On the source. */
  files: number;
  bytes: number;
  manifest_match: boolean;
}

export async function verifyVolumes(o: {
  ch: Channel;
  copies: VolumeCopy[];
  source: Transport;
  target: Transport;
}): Promise<VolumeReport[]> {
  return (await compareCopies(o.ch, o.copies, o.source, o.target)).map((c) => ({
    name: c.copy.name,
    files: c.source.files,
    bytes: c.source.bytes,
    manifest_match: same(c),
  }));
}
