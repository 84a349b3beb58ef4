/**
 * A step that makes one nginx file hold a content, through the safe write of
 * nginx-write.ts (`nginx -t` judges before any reload). Before overwriting, the file that
 * was there is copied on the host (previousCopyPath), so that rollback can put it back
 * from there even after a kill; a file that did not exist is removed by rollback.
 */
import { StepError } from '../engine/errors.js';
import type { Phase, Step, StepContext, StepDoc } from '../engine/step.js';
import { sha256Command } from '../engine/steps/file.js';
import {
  existsCommand,
  keepCopyCommand,
  nginxTestCommand,
  reloadNginxCommand,
  shown,
  workersCommand,
} from './commands.js';
import { previousCopyPath } from './names.js';
import { nginxErrors, remoteSha256, replaceNginxFile, sha256 } from './nginx-write.js';

export { shown } from './commands.js';
export {
  NGINX_FILE_MODE,
  nginxErrors,
  remoteSha256,
  replaceNginxFile,
  workerPids,
  writeNginxFile,
  type ReplaceOptions,
} from './nginx-write.js';

export interface NginxFileStepOptions {
  id: string;
  host: string;
  /** Absolute. */
  path: string;
  /** A function is called at check time (e.g. upstreams from the running containers). */
  content: string | ((ctx: StepContext) => Promise<string>);
  sudo?: boolean;
  /** Default `proxy`. */
  phase?: Phase;
  dependsOn?: string[];
  title?: string;
  /** What the file is for, first in the runbook. */
  purpose?: string;
}

/** What an nginx file step's check saw. */
export interface NginxFileObserved {
  /** The file existed before the step's first apply. */
  existed: boolean;
  /** Its sha256 then (null: it did not exist); the copy kept on the host must have it. */
  hash: string | null;
  /** The new file, rendered at check time (an nginx configuration, never a secret). */
  content: string;
}

const short = (sha: string): string => `${sha.slice(0, 12)}…`;

/** The state before the first apply, from the journal of a run being resumed. */
function priorState(prior: unknown): Pick<NginxFileObserved, 'existed' | 'hash'> | undefined {
  const p = prior as Partial<NginxFileObserved> | undefined;
  if (typeof p?.existed !== 'boolean' || (p.hash !== null && typeof p.hash !== 'string')) return undefined;
  return { existed: p.existed, hash: p.hash };
}

/** A step that makes an nginx file hold `content`, through `replaceNginxFile`. Phase `proxy` unless told. */
export function nginxFileStep(o: NginxFileStepOptions): Step<NginxFileObserved> {
  if (!o.path.startsWith('/')) throw new Error(`nginxFileStep ${o.id}: the path must be absolute, got "${o.path}"`);
  const sudo = o.sudo ?? false;
  const copy = previousCopyPath(o.id);
  const hashOf = (ctx: StepContext, path: string) => remoteSha256(ctx, o.host, path, sudo);
  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'proxy',
    title: o.title ?? `nginx ${o.path}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => nginxFileDoc(o, sudo, copy),
    async check(ctx) {
      const have = await hashOf(ctx, o.path);
      const content = typeof o.content === 'string' ? o.content : await o.content(ctx);
      const next = sha256(content);
      const before = priorState(ctx.prior) ?? { existed: have !== null, hash: have };
      const observed: NginxFileObserved = { ...before, content };
      if (have === next) return { needed: false, observed };
      const summary = have === null ? `${o.path}: create` : `${o.path}: sha256 ${short(have)} -> ${short(next)}`;
      return { needed: true, change: { summary }, observed };
    },
    async apply(ctx, observed) {
      // Resumed after a kill: the copy already holds the file as it was, unless the file still is.
      const keep = observed.existed && (ctx.prior === undefined || (await hashOf(ctx, o.path)) === observed.hash);
      await replaceNginxFile(ctx, o.host, o.path, observed.content, { sudo, ...(keep ? { keep: copy } : {}) });
    },
    async verify(ctx, observed) {
      const have = await hashOf(ctx, o.path);
      if (have !== sha256(observed.content))
        return {
          ok: false,
          message: `${o.path}: ${have === null ? 'missing' : `sha256 is ${short(have)}`}, not the content written`,
        };
      const test = await ctx.transport.exec(nginxTestCommand, { sudo });
      return test.code === 0 ? { ok: true } : { ok: false, message: `nginx -t fails: ${nginxErrors(test.stderr)}` };
    },
    async rollback(ctx, observed) {
      const have = await hashOf(ctx, o.path);
      if (!observed.existed) {
        if (have !== null) await replaceNginxFile(ctx, o.host, o.path, null, { sudo });
        return;
      }
      // Never written (apply stopped first), or already put back.
      if (have === observed.hash) return;
      if ((await hashOf(ctx, copy)) !== observed.hash)
        throw new StepError(
          'rollback-impossible',
          `${o.host}: ${o.path} changed and its copy ${copy} is not the file as it was (sha256 ${short(observed.hash ?? '')})`,
          `Restore ${o.path} on ${o.host} from a backup, then check it with \`sudo nginx -t\`.`,
        );
      const previous = await ctx.transport.download(copy, { sudo });
      await replaceNginxFile(ctx, o.host, o.path, previous, { sudo });
    },
  };
}

function nginxFileDoc(o: NginxFileStepOptions, sudo: boolean, copy: string): StepDoc {
  const dynamic = typeof o.content === 'string' ? '' : ' (its content is computed when the plan is checked)';
  return {
    purpose: `${o.purpose ?? `Write ${o.path}`}${dynamic}. Safely: the previous file is copied to ${copy}, the new one written atomically (mode 644), \`nginx -t\` judges the whole configuration, and if it fails the previous file is put back before nginx ever reloads; if it passes nginx reloads without dropping connections, and the step waits (at most 10 s) until new workers run.`,
    commands: [
      sha256Command(o.path),
      existsCommand(o.path),
      keepCopyCommand(o.path, copy),
      nginxTestCommand,
      workersCommand,
      reloadNginxCommand,
    ].map((c) => shown(c, sudo)),
    verify: `sha256sum ${o.path} shows the new content's hash and \`nginx -t\` passes.`,
    undo: `Put back the previous ${o.path} from ${copy} (remove it if there was none), through the same \`nginx -t\` check, and reload nginx.`,
  };
}
