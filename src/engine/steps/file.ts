/**
 * A file with a given content, mode and (optionally) owner. `check` compares hashes and
 * `stat` output instead of downloading; before writing, a previous file under 1 MiB is
 * kept in memory so that `rollback` can put it back. A Secret's content is hashed but its
 * hash is never shown: its change reads `content changed (secret)`.
 */
import { createHash } from 'node:crypto';
import { isSecret, Secret } from '../../core/secret.js';
import { cmd, render, type Command } from '../../shell/command.js';
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
}

/** The largest previous content kept for rollback. */
export const KEEP_LIMIT = 1024 * 1024;

type Seen = { exists: false } | { exists: true; mode: number; owner: string; size: number; sha256: string };

export const statCommand = (path: string): Command => cmd('stat', '-c', '%a %U:%G %s', path);
export const sha256Command = (path: string): Command => cmd('sha256sum', path);
export const removeCommand = (path: string): Command => cmd('rm', '-f', path);

const octal = (mode: number): string => mode.toString(8).padStart(3, '0');
const short = (sha: string): string => `${sha.slice(0, 12)}…`;

export function fileStep(o: FileStepOptions): Step {
  if (!o.path.startsWith('/')) throw new Error(`fileStep ${o.id}: the path must be absolute, got "${o.path}"`);
  const want = createHash('sha256')
    .update(isSecret(o.content) ? o.content.reveal() : o.content)
    .digest('hex');
  const sudo = o.sudo ?? false;
  let seen: Seen | undefined;
  let previous: Buffer | Secret | undefined;
  let written = false;

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
      seen = await inspect(ctx);
      previous = undefined;
      written = false;
      const diffs = differences(seen, false);
      return diffs.length === 0
        ? { needed: false }
        : { needed: true, change: { summary: `${o.path}: ${diffs.join('; ')}` } };
    },
    async apply(ctx) {
      seen ??= await inspect(ctx);
      if (seen.exists && seen.size < KEEP_LIMIT) {
        const old = await ctx.transport.download(o.path, { sudo });
        previous = isSecret(o.content) ? new Secret(old.toString('utf8')) : old;
      }
      written = true;
      await ctx.transport.upload(o.path, o.content, { mode: o.mode, sudo, ...(o.owner ? { owner: o.owner } : {}) });
    },
    async verify(ctx) {
      const diffs = differences(await inspect(ctx), true);
      return diffs.length === 0 ? { ok: true } : { ok: false, message: `${o.path}: ${diffs.join('; ')}` };
    },
    async rollback(ctx) {
      if (!seen || !written) return;
      if (!seen.exists) {
        await ctx.transport.exec(removeCommand(o.path), { sudo, check: true });
      } else if (previous !== undefined) {
        const owner = o.owner !== undefined || sudo ? { owner: seen.owner } : {};
        await ctx.transport.upload(o.path, previous, { mode: seen.mode, sudo, ...owner });
      } else {
        throw new StepError(
          'rollback-impossible',
          `${o.host}: ${o.path} was ${seen.size} bytes, over the ${KEEP_LIMIT} kept for rollback: its previous content cannot be restored`,
          `restore ${o.path} on ${o.host} from a backup`,
        );
      }
    },
  };
}

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
    undo: `Put back the previous content, mode and owner, kept before writing when the file was under 1 MiB (a larger file cannot be restored: restore it from a backup); if the file did not exist, remove it: ${line(removeCommand(o.path))}`,
  };
}
