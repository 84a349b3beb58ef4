/**
 * The one safe way to change nginx's configuration: keep what was there, write the new
 * file atomically, have `nginx -t` judge the whole configuration, and only then reload
 * (and wait until workers of the new configuration run). When nginx refuses it (or does
 * not reload), the previous file is put back, so the running nginx never sees a
 * configuration that failed `nginx -t`. Changes on one host are serialized, so that one
 * file's test never judges another's half-written change.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { render, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Step, StepContext, StepDoc } from '../engine/step.js';
import { removeCommand, sha256Command } from '../engine/steps/file.js';
import { commandFailed, stderrTail } from '../transport/ssh/errors.js';
import { existsCommand, mkdirCommand, nginxTestCommand, reloadNginxCommand, workersCommand } from './commands.js';

export const NGINX_FILE_MODE = 0o644;

/** A command as the runbook shows it. */
export const shown = (c: Command, sudo: boolean): string => `${sudo ? 'sudo ' : ''}${render(c)}`;

const queues = new WeakMap<object, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same transport (one host) has ended. */
function serialized<T>(key: object, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  queues.set(
    key,
    run.catch(() => undefined),
  );
  return run;
}

/** The file's content, or null when it does not exist. */
async function readFile(ctx: StepContext, path: string, sudo: boolean): Promise<Buffer | null> {
  const exists = await ctx.transport.exec(existsCommand(path), { sudo });
  return exists.code === 0 ? ctx.transport.download(path, { sudo }) : null;
}

/** Writes `content` (creating the directory when the file is new), or removes the file for null. */
async function putFile(
  ctx: StepContext,
  path: string,
  content: string | Buffer | null,
  existed: boolean,
  sudo: boolean,
): Promise<void> {
  if (content === null) {
    await ctx.transport.exec(removeCommand(path), { sudo, check: true });
    return;
  }
  if (!existed) await ctx.transport.exec(mkdirCommand(posix.dirname(path)), { sudo, check: true });
  await ctx.transport.upload(path, content, { mode: NGINX_FILE_MODE, sudo });
}

/** The lines of `nginx -t` that say what is wrong (`[emerg] ... in FILE:LINE`). */
export function nginxErrors(stderr: string): string {
  const lines = stderr
    .split('\n')
    .filter((l) => /\[(emerg|alert|crit|error)\]/.test(l))
    .map((l) => l.replace(/^nginx: /, '').trim());
  return lines.length > 0 ? lines.join('\n') : stderrTail(stderr, 5);
}

function refused(ctx: StepContext, host: string, path: string, stderr: string, alreadyBroken: boolean): StepError {
  const redact = (t: string) => ctx.redactor.redact(t);
  const errors = nginxErrors(stderr);
  if (alreadyBroken) {
    return new StepError(
      'nginx-config-invalid',
      redact(
        `${host}: nginx -t fails with and without the new ${path}, so it was not written and nginx was not reloaded:\n${errors}`,
      ),
      `Another file of nginx's configuration on ${host} is broken: fix the file named above (\`sudo nginx -t\` on ${host} shows it), then run apply again.`,
    );
  }
  return new StepError(
    'nginx-config-invalid',
    redact(
      `${host}: nginx refused the new ${path}; the previous file was put back and nginx was not reloaded:\n${errors}`,
    ),
    `Fix what the line above names (for a Ferry-rendered file: the route, size or duration in ferry.yml); \`sudo nginx -t\` on ${host} checks the configuration.`,
  );
}

/** The pids of nginx's workers that accept requests (none when nginx or pgrep is missing). */
export async function workerPids(ctx: StepContext, sudo: boolean): Promise<string[]> {
  const r = await ctx.transport.exec(workersCommand, { sudo });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l));
}

/**
 * Reloads nginx and waits (at most 10 s) until only workers of the new configuration
 * accept requests: a reload only signals the master, which starts new workers and then
 * tells the old ones to stop accepting (they show as `worker process is shutting down`
 * while they finish their requests). Without the wait the next request may still meet
 * the old configuration.
 */
async function reload(ctx: StepContext, host: string, sudo: boolean): Promise<string | undefined> {
  const before = new Set(await workerPids(ctx, sudo));
  const r = await ctx.transport.exec(reloadNginxCommand, { sudo });
  if (r.code !== 0) return stderrTail(r.stderr || r.stdout, 3);
  const deadline = Date.now() + 10_000;
  while (before.size > 0 && Date.now() < deadline) {
    const active = await workerPids(ctx, sudo);
    if (active.length > 0 && !active.some((p) => before.has(p))) break;
    await sleep(50);
  }
  return undefined;
}

/**
 * Replaces `path` with `content` (null: removes it) if nginx accepts the result, then
 * reloads nginx; otherwise puts the previous file back and throws. Returns the previous
 * content (null: there was no file).
 */
export function replaceNginxFile(
  ctx: StepContext,
  host: string,
  path: string,
  content: string | Buffer | null,
  sudo = false,
): Promise<Buffer | null> {
  return serialized(ctx.transport, async () => {
    const previous = await readFile(ctx, path, sudo);
    await putFile(ctx, path, content, previous !== null, sudo);
    const test = await ctx.transport.exec(nginxTestCommand, { sudo });
    const failed = test.code !== 0 ? undefined : await reload(ctx, host, sudo);
    if (test.code === 0 && failed === undefined) return previous;
    await putFile(ctx, path, previous, content !== null, sudo);
    if (failed !== undefined) {
      throw new StepError(
        'nginx-reload-failed',
        ctx.redactor.redact(
          `${host}: nginx accepted the new ${path} but did not reload (${failed}); the previous file was put back`,
        ),
        `Check that nginx runs on ${host} (\`systemctl status nginx\`), start it, then run apply again.`,
      );
    }
    const before = await ctx.transport.exec(nginxTestCommand, { sudo });
    throw refused(ctx, host, path, test.stderr, before.code !== 0);
  });
}

/**
 * Writes one nginx file safely (see the module comment): the deploy calls this to swap
 * a stack's upstreams without dropping requests. When it returns, new workers serve the
 * new configuration. Returns the previous content (null: none).
 */
export function writeNginxFile(
  ctx: StepContext,
  host: string,
  path: string,
  content: string,
  sudo = false,
): Promise<Buffer | null> {
  return replaceNginxFile(ctx, host, path, content, sudo);
}

export interface NginxFileStepOptions {
  id: string;
  host: string;
  /** Absolute. */
  path: string;
  /** A function is called at check time (e.g. upstreams from the running containers). */
  content: string | ((ctx: StepContext) => Promise<string>);
  sudo?: boolean;
  dependsOn?: string[];
  title?: string;
  /** What the file is for, first in the runbook. */
  purpose?: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const short = (sha: string): string => `${sha.slice(0, 12)}…`;

/** The sha256 of the file on the host, or null when it does not exist. */
export async function remoteSha256(
  ctx: StepContext,
  host: string,
  path: string,
  sudo: boolean,
): Promise<string | null> {
  const r = await ctx.transport.exec(sha256Command(path), { sudo });
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return null;
    throw commandFailed(host, r.command, r.code, r.stderr, (t) => ctx.redactor.redact(t));
  }
  const sha = /^([0-9a-f]{64})\s/.exec(r.stdout)?.[1];
  if (!sha)
    throw new StepError(
      'unexpected-output',
      ctx.redactor.redact(`${host}: cannot read the hash of ${path} from: ${r.stdout.trim()}`),
      'check that GNU coreutils (sha256sum) is installed on the host',
    );
  return sha;
}

/** A step that makes an nginx file hold `content`, through `writeNginxFile`. Phase `proxy`. */
export function nginxFileStep(o: NginxFileStepOptions): Step {
  if (!o.path.startsWith('/')) throw new Error(`nginxFileStep ${o.id}: the path must be absolute, got "${o.path}"`);
  const sudo = o.sudo ?? false;
  let want: string | undefined;
  let previous: Buffer | null = null;
  let written = false;
  const content = async (ctx: StepContext) =>
    (want ??= typeof o.content === 'string' ? o.content : await o.content(ctx));
  return {
    id: o.id,
    host: o.host,
    phase: 'proxy',
    title: o.title ?? `nginx ${o.path}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => nginxFileDoc(o, sudo),
    async check(ctx) {
      want = undefined;
      written = false;
      const have = await remoteSha256(ctx, o.host, o.path, sudo);
      const next = sha256(await content(ctx));
      if (have === next) return { needed: false };
      return {
        needed: true,
        change: { summary: have === null ? `${o.path}: create` : `${o.path}: sha256 ${short(have)} -> ${short(next)}` },
      };
    },
    async apply(ctx) {
      previous = await writeNginxFile(ctx, o.host, o.path, await content(ctx), sudo);
      written = true;
    },
    async verify(ctx) {
      const have = await remoteSha256(ctx, o.host, o.path, sudo);
      if (have !== sha256(await content(ctx)))
        return {
          ok: false,
          message: `${o.path}: ${have === null ? 'missing' : `sha256 is ${short(have)}`}, not the content written`,
        };
      const test = await ctx.transport.exec(nginxTestCommand, { sudo });
      return test.code === 0 ? { ok: true } : { ok: false, message: `nginx -t fails: ${nginxErrors(test.stderr)}` };
    },
    async rollback(ctx) {
      if (!written) return;
      await replaceNginxFile(ctx, o.host, o.path, previous, sudo);
      written = false;
    },
  };
}

function nginxFileDoc(o: NginxFileStepOptions, sudo: boolean): StepDoc {
  const dynamic = typeof o.content === 'string' ? '' : ' (its content is computed when the plan is checked)';
  return {
    purpose: `${o.purpose ?? `Write ${o.path}`}${dynamic}. Safely: the previous file is kept, the new one written atomically (mode 644), \`nginx -t\` judges the whole configuration, and if it fails the previous file is put back before nginx ever reloads; if it passes nginx reloads without dropping connections, and the step waits (at most 10 s) until new workers run.`,
    commands: [sha256Command(o.path), existsCommand(o.path), nginxTestCommand, workersCommand, reloadNginxCommand].map(
      (c) => shown(c, sudo),
    ),
    verify: `sha256sum ${o.path} shows the new content's hash and \`nginx -t\` passes.`,
    undo: `Put back the previous ${o.path} (remove it if there was none), through the same \`nginx -t\` check, and reload nginx.`,
  };
}
