/**
 * A file with a given content, mode and (optionally) owner. `check` compares hashes and
 * `stat` output instead of downloading; before writing, the previous file is copied next
 * to it on the host (`PATH.ferry-prev`, mode and owner kept) so that `rollback` can rename
 * it back, even after a kill, without its content passing through Ferry. A Secret's content
 * is hashed but its hash is never shown: its change reads `content changed (secret)`.
 */
import { createHash } from 'node:crypto';
import { isSecret, type Secret } from '../../core/secret.js';
import { cmd, render, script, type Command } from '../../shell/command.js';
import { commandFailed } from '../../transport/ssh/errors.js';
import { StepError } from '../errors.js';
import type { Phase, Step, StepContext } from '../step.js';

export interface FileStepOptions {
  id: string;
  host: string;
  /** Absolute. */
  path: string;
  content: string | Buffer | Secret;
  /** e.g. 0o600 */
  mode: number;
  /** `user:group`, or `user` to check the user only. */
  owner?: string;
  sudo?: boolean;
  phase?: Phase;
  dependsOn?: string[];
  /** Make the file's directory (mode 755) when it is missing; it stays after a rollback. */
  parents?: boolean;
}

/** What the check of a file saw before this step first wrote it (kept from `ctx.prior` on resume). */
export interface FileObserved {
  /** The file was there: apply keeps a copy of it next to it (`PATH.ferry-prev`) for rollback. */
  existed: boolean;
  /** The sha256 of its content then; never for a secret's file (its previous content may be secret too). */
  hash?: string;
}

type Seen = { exists: false } | { exists: true; mode: number; owner: string; size: number; sha256: string };

export const statCommand = (path: string): Command => cmd('stat', '-c', '%a %U:%G %s', path);
export const sha256Command = (path: string): Command => cmd('sha256sum', path);
export const removeCommand = (path: string): Command => cmd('rm', '-f', path);
/** Where apply keeps the file it replaces, on the host: a copy survives a kill, and holds no secret in memory. */
export const previousPath = (path: string): string => `${path}.ferry-prev`;
/** The copy, with mode and owner (`cp -p`). */
export const keepCommand = (path: string): Command => cmd('cp', '-p', path, previousPath(path));
/** On resume: a copy the killed run made is the file before it, and is kept. */
export const keepOnceCommand = (path: string): Command =>
  script('[ -e "$2" ] || cp -p "$1" "$2"', path, previousPath(path));
/** The copy renamed back over the file (atomic); nothing when there is no copy (apply never replaced the file). */
export const restoreCommand = (path: string): Command =>
  script('[ ! -e "$2" ] || mv -f "$2" "$1"', path, previousPath(path));

const octal = (mode: number): string => mode.toString(8).padStart(3, '0');
const short = (sha: string): string => `${sha.slice(0, 12)}…`;

export function fileStep(o: FileStepOptions): Step<FileObserved> {
  if (!o.path.startsWith('/')) throw new Error(`fileStep ${o.id}: the path must be absolute, got "${o.path}"`);
  const want = createHash('sha256')
    .update(isSecret(o.content) ? o.content.reveal() : o.content)
    .digest('hex');
  const sudo = o.sudo ?? false;
  const inspect = (ctx: StepContext) => inspectFile(ctx, o.host, o.path, sudo);
  const differences = (s: Seen, after: boolean) => describe(o, want, s, after);

  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'transfer',
    title: `write ${o.path}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => fileDoc(o),
    async check(ctx) {
      const seen = await inspect(ctx);
      const now: FileObserved = seen.exists
        ? { existed: true, ...(isSecret(o.content) ? {} : { hash: seen.sha256 }) }
        : { existed: false };
      const observed = (ctx.prior as FileObserved | undefined) ?? now;
      const diffs = differences(seen, false);
      return diffs.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: `${o.path}: ${diffs.join('; ')}` }, observed };
    },
    async apply(ctx, observed) {
      if (observed.existed)
        await ctx.transport.exec(ctx.prior === undefined ? keepCommand(o.path) : keepOnceCommand(o.path), {
          sudo,
          check: true,
        });
      if (o.parents && !observed.existed) await ctx.transport.exec(parentsCommand(o.path), { sudo, check: true });
      await ctx.transport.upload(o.path, o.content, { mode: o.mode, sudo, ...(o.owner ? { owner: o.owner } : {}) });
    },
    async verify(ctx) {
      const diffs = differences(await inspect(ctx), true);
      return diffs.length === 0 ? { ok: true } : { ok: false, message: `${o.path}: ${diffs.join('; ')}` };
    },
    async rollback(ctx, observed) {
      const undo = observed.existed ? restoreCommand(o.path) : removeCommand(o.path);
      await ctx.transport.exec(undo, { sudo, check: true });
    },
  };
}

const parentsCommand = (path: string): Command =>
  cmd('install', '-d', '-m', '755', path.slice(0, path.lastIndexOf('/')));

async function inspectFile(ctx: StepContext, host: string, path: string, sudo: boolean): Promise<Seen> {
  const redact = (t: string) => ctx.redactor.redact(t);
  const stat = await ctx.transport.exec(statCommand(path), { sudo });
  if (stat.code !== 0) {
    if (/No such file or directory/.test(stat.stderr)) return { exists: false };
    throw commandFailed(host, stat.command, stat.code, stat.stderr, redact);
  }
  const m = /^(\d+) (\S+) (\d+)\s*$/.exec(stat.stdout);
  const sum = await ctx.transport.exec(sha256Command(path), { sudo, check: true });
  const sha = /^([0-9a-f]{64})\s/.exec(sum.stdout)?.[1];
  if (!m || !sha) {
    const out = redact(`${stat.stdout.trim()} / ${sum.stdout.trim()}`);
    throw new StepError(
      'unexpected-output',
      `${host}: cannot read the mode or hash of ${path} from: ${out}`,
      'check that GNU coreutils (stat, sha256sum) are installed on the host',
    );
  }
  return { exists: true, mode: parseInt(m[1]!, 8), owner: m[2]!, size: Number(m[3]), sha256: sha };
}

function describe(o: FileStepOptions, want: string, s: Seen, after: boolean): string[] {
  if (!s.exists) return [after ? 'missing' : `create (mode ${octal(o.mode)}${o.owner ? `, owner ${o.owner}` : ''})`];
  const out: string[] = [];
  if (s.sha256 !== want)
    out.push(isSecret(o.content) ? 'content changed (secret)' : `sha256 ${short(s.sha256)} -> ${short(want)}`);
  if (s.mode !== o.mode) out.push(`mode ${octal(s.mode)} -> ${octal(o.mode)}`);
  if (o.owner && !ownerMatches(s.owner, o.owner)) out.push(`owner ${s.owner} -> ${o.owner}`);
  return out;
}

const ownerMatches = (actual: string, wanted: string): boolean =>
  wanted.includes(':') ? actual === wanted : actual.split(':')[0] === wanted;

function fileDoc(o: FileStepOptions) {
  const line = (c: Command) => `${o.sudo ? 'sudo ' : ''}${render(c)}`;
  const owner = o.owner ? `, owner ${o.owner}` : '';
  return {
    purpose: `Write ${o.path}${isSecret(o.content) ? ' (secret content)' : ''} with mode ${octal(o.mode)}${owner}, atomically (temporary file, then rename); the commands compare what is there first.`,
    commands: [line(statCommand(o.path)), line(sha256Command(o.path))],
    verify: `sha256sum shows the new content's hash and stat shows mode ${octal(o.mode)}${owner}.`,
    undo: `Put back the previous file, kept before writing as ${previousPath(o.path)} (content, mode and owner): ${line(restoreCommand(o.path))}; if the file did not exist, remove it: ${line(removeCommand(o.path))}`,
  };
}
