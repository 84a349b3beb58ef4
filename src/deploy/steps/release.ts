/**
 * The release directory (mode 700): every file of the bundle, in its mode (bundle.ts), written into
 * `releases/ID.partial` and renamed to `releases/ID` once complete, so that a release
 * directory is never half there. Relative bind mounts become links into `shared/`,
 * where their data outlives releases. A manifest (`sha256sum` format) lets `verify`
 * and later checks compare without downloading.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isSecret } from '../../core/secret.js';
import { and, cmd, or, quiet, render, script, type Command } from '../../shell/command.js';
import type { Step, StepContext } from '../../engine/step.js';
import { runOwn } from './failure.js';
import { modeOf, type Bundle } from '../bundle.js';
import { currentLink, releaseDir, releasesDir, sharedDir } from '../layout.js';
import { META, metaText, type ReleaseMeta } from '../release-meta.js';

export const MANIFEST = '.ferry-manifest';

const sha = (b: Bundle['files'][number]): string =>
  createHash('sha256')
    .update(isSecret(b.content) ? b.content.reveal() : b.content)
    .digest('hex');

export function manifestOf(bundle: Bundle): string {
  return bundle.files.map((f) => `${sha(f)}  ${f.rel}\n`).join('');
}

export const existsCommand = (dir: string): Command => cmd('test', '-f', `${dir}/${MANIFEST}`);
/** The running release's manifest, then `MODE FILE` of each file of the bundle it has. */
export const readCurrentManifest = (stack: string, files: readonly string[]): Command =>
  quiet(
    script(
      'cat "$1/$2" || exit; cd "$1" && shift 2 && [ $# -gt 0 ] && stat -c "%a %n" -- "$@" 2>/dev/null; true',
      currentLink(stack),
      MANIFEST,
      ...files,
    ),
  );
export const verifyCommand = (dir: string): Command => and(cmd('cd', dir), cmd('sha256sum', '--quiet', '-c', MANIFEST));

/** `rel -> mode` from the `MODE FILE` lines after a manifest (readCurrentManifest). */
export function parseModes(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([0-7]{3,4}) (.+)$/.exec(line);
    if (m) out.set(m[2]!, parseInt(m[1]!, 8));
  }
  return out;
}

/** `rel -> sha256` from a manifest's text. */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

/**
 * Names of files added, changed or removed against the running release; secret files never
 * show hashes. With the running release's modes, a file whose mode alone changed says so.
 */
export function manifestChanges(
  before: Map<string, string>,
  bundle: Bundle,
  modes: ReadonlyMap<string, number> = new Map(),
): string[] {
  const out: string[] = [];
  const now = new Set<string>();
  for (const f of bundle.files) {
    now.add(f.rel);
    const was = before.get(f.rel);
    const mode = modeOf(f);
    const wasMode = modes.get(f.rel);
    if (was === undefined) out.push(`+ ${f.rel}`);
    else if (was !== sha(f)) out.push(`~ ${f.rel}${isSecret(f.content) ? ' (secret)' : ''}`);
    else if (wasMode !== undefined && wasMode !== mode) out.push(`~ ${f.rel} (mode ${mode.toString(8)})`);
  }
  for (const rel of before.keys()) if (!now.has(rel)) out.push(`- ${rel}`);
  return out;
}

/** What the check of the release directory saw. */
export interface ReleaseObserved {
  /**
   * The release directory was complete (its manifest there) before this step first applied
   * (kept from `ctx.prior` on resume): rollback removes it only when it was not.
   */
  existed: boolean;
}

const WRITE_HINT =
  'Check free disk space (`df -h /srv`) and permissions on the server (the SSH user needs root or sudo: true), then run apply again.';

export function releaseStep(o: {
  id: string;
  host: string;
  stack: string;
  bundle: Bundle;
  meta: ReleaseMeta;
  sudo: boolean;
  dependsOn: string[];
  /** What the plan says besides the files, e.g. the settings of a tuned Postgres. */
  notes?: string[];
}): Step<ReleaseObserved> {
  const dir = releaseDir(o.stack, o.bundle.id);
  const partial = `${dir}.partial`;
  const run = (ctx: StepContext, c: Command, what: string) =>
    runOwn(ctx, c, { sudo: o.sudo, what, code: 'release-write-failed', hint: WRITE_HINT });
  return {
    id: o.id,
    host: o.host,
    phase: 'transfer',
    title: `release ${o.bundle.id} (${o.bundle.files.length} files)`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Write release ${o.bundle.id} of stack ${o.stack}: ${o.bundle.files.map((f) => `${f.rel} (${modeOf(f).toString(8)})`).join(', ')} into ${dir}, through ${partial} so that it appears complete or not at all${o.bundle.dataPaths.length > 0 ? `; link ${o.bundle.dataPaths.join(', ')} to ${sharedDir(o.stack)}/ so their data outlives releases` : ''}.`,
      commands: [render(existsCommand(dir)), `upload each file to ${partial}/…`, `mv ${partial} ${dir}`],
      verify: `${render(verifyCommand(dir))}`,
      undo: `rm -rf ${partial}; rm -rf ${dir} (only when this run created it and it is not current)`,
    }),
    async check(ctx) {
      const exists = (await ctx.transport.exec(existsCommand(dir), { sudo: o.sudo })).code === 0;
      const prior = ctx.prior as ReleaseObserved | undefined;
      const observed: ReleaseObserved = { existed: prior ? prior.existed : exists };
      if (exists) return { needed: false, observed };
      const cur = await ctx.transport.exec(
        readCurrentManifest(
          o.stack,
          o.bundle.files.map((f) => f.rel),
        ),
        { sudo: o.sudo },
      );
      const changes =
        cur.code === 0
          ? manifestChanges(parseManifest(cur.stdout), o.bundle, parseModes(cur.stdout))
          : o.bundle.files.map((f) => `+ ${f.rel}`);
      return {
        needed: true,
        change: {
          summary: `new release ${o.bundle.id}: ${changes.length > 0 ? changes.join(', ') : 'same files, new images'}${(o.notes ?? []).map((n) => `; ${n}`).join('')}`,
        },
        observed,
      };
    },
    async apply(ctx) {
      await run(
        ctx,
        and(
          cmd('rm', '-rf', partial),
          cmd('mkdir', '-p', '-m', '700', partial),
          cmd('mkdir', '-p', '-m', '750', sharedDir(o.stack)),
        ),
        `creating ${partial}`,
      );
      for (const f of o.bundle.files) {
        const parent = posix.dirname(`${partial}/${f.rel}`);
        if (parent !== partial) await run(ctx, cmd('mkdir', '-p', '-m', '700', parent), `creating ${parent}`);
        await ctx.transport.upload(`${partial}/${f.rel}`, f.content, { mode: modeOf(f), sudo: o.sudo });
      }
      for (const d of o.bundle.dataPaths) {
        const link = `${partial}/${d}`;
        await run(
          ctx,
          and(
            cmd('mkdir', '-p', `${sharedDir(o.stack)}/${d}`, posix.dirname(link)),
            cmd('ln', '-sfn', `${sharedDir(o.stack)}/${d}`, link),
          ),
          `linking ${d} to shared data`,
        );
      }
      const meta = metaText(o.meta);
      const manifest = manifestOf(o.bundle);
      await ctx.transport.upload(`${partial}/${META}`, meta, { mode: 0o600, sudo: o.sudo });
      await ctx.transport.upload(`${partial}/${MANIFEST}`, manifest, { mode: 0o600, sudo: o.sudo });
      await run(ctx, or(cmd('test', '-d', dir), cmd('mv', '-T', partial, dir)), `renaming ${partial}`);
      ctx.transferred(
        'release',
        [...o.bundle.files.map((f) => f.content), meta, manifest].reduce((n, c) => n + byteLength(c), 0),
      );
    },
    async verify(ctx) {
      const r = await ctx.transport.exec(verifyCommand(dir), { sudo: o.sudo });
      return r.code === 0
        ? { ok: true }
        : {
            ok: false,
            message: `${dir}: files differ from the manifest: ${r.stdout.trim().split('\n').slice(0, 3).join('; ')}`,
          };
    },
    async rollback(ctx, observed) {
      await ctx.transport.exec(cmd('rm', '-rf', partial), { sudo: o.sudo });
      // Removing a directory apply never renamed into place is harmless; the current release is never removed.
      if (observed.existed) return;
      await ctx.transport.exec(and(cmd('test', '!', `${dir}`, '-ef', currentLink(o.stack)), cmd('rm', '-rf', dir)), {
        sudo: o.sudo,
      });
    },
  };
}

export const listReleasesCommand = (stack: string): Command => quiet(cmd('ls', '-1', releasesDir(stack)));

/** The bytes of an uploaded content (a secret's too: its length is no secret). */
const byteLength = (c: string | Buffer | { reveal(): string }): number =>
  typeof c === 'string' ? Buffer.byteLength(c) : Buffer.isBuffer(c) ? c.length : Buffer.byteLength(c.reveal());
