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
import { StepError } from '../engine/errors.js';
import type { StepContext } from '../engine/step.js';
import { removeCommand, sha256Command } from '../engine/steps/file.js';
import { commandFailed, stderrTail } from '../transport/ssh/errors.js';
import {
  existsCommand,
  keepCopyCommand,
  mkdirCommand,
  nginxTestCommand,
  reloadNginxCommand,
  workersCommand,
} from './commands.js';
import { doing, proxyFailure } from './failures.js';

export const NGINX_FILE_MODE = 0o644;

/** How long a reload waits for workers of the new configuration. */
export const RELOAD_WAIT_MS = 10_000;

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

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

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

/** The pids of nginx's workers that accept requests (none when nginx or pgrep is missing). */
export async function workerPids(ctx: StepContext, sudo: boolean): Promise<string[]> {
  const r = await ctx.transport.exec(workersCommand, { sudo });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l));
}

/**
 * Reloads nginx and waits (at most RELOAD_WAIT_MS, 10 s) until only workers of the new
 * configuration accept requests: a reload only signals the master, which starts new
 * workers and then tells the old ones to stop accepting (they show as `worker process is
 * shutting down` while they finish their requests). Without the wait the next request
 * may still meet the old configuration. Returns the reload's error when it failed.
 */
async function reload(ctx: StepContext, host: string, path: string, sudo: boolean): Promise<StepError | undefined> {
  const before = new Set(await workerPids(ctx, sudo));
  const r = await ctx.transport.exec(reloadNginxCommand, { sudo });
  const failed = proxyFailure(
    'nginx',
    r,
    doing(ctx, host, `nginx accepted the new ${path} but did not reload; the previous file was put back`),
    {
      code: 'nginx-reload-failed',
      hint: `Check that nginx runs on ${host} (\`systemctl status nginx\`), start it, then run apply again.`,
    },
  );
  if (failed) return failed;
  const deadline = Date.now() + RELOAD_WAIT_MS;
  while (before.size > 0 && Date.now() < deadline) {
    const active = await workerPids(ctx, sudo);
    if (active.length > 0 && !active.some((p) => before.has(p))) break;
    await sleep(50);
  }
  return undefined;
}

/** Why nginx refused the new file, told apart from a configuration that was already broken. */
function refused(ctx: StepContext, host: string, path: string, test: NginxTest, alreadyBroken: boolean): StepError {
  const [what, hint] = alreadyBroken
    ? [
        `nginx -t fails with and without the new ${path}, so it was not written and nginx was not reloaded`,
        `Another file of nginx's configuration on ${host} is broken: fix the file named above (\`sudo nginx -t\` on ${host} shows it), then run apply again.`,
      ]
    : [
        `nginx refused the new ${path}; the previous file was put back and nginx was not reloaded`,
        `Fix what the lines above name (for a Ferry-rendered file: the route, size or duration in ferry.yml); \`sudo nginx -t\` on ${host} checks the configuration.`,
      ];
  return proxyFailure('nginx', test, doing(ctx, host, what), { code: 'nginx-config-invalid', hint })!;
}

type NginxTest = { code: number; stdout: string; stderr: string };

export interface ReplaceOptions {
  sudo?: boolean;
  /** Before writing, copy the file that was there to this path on the host (see keepCopyCommand). */
  keep?: string;
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
  o: ReplaceOptions = {},
): Promise<Buffer | null> {
  const sudo = o.sudo ?? false;
  return serialized(ctx.transport, async () => {
    const previous = await readFile(ctx, path, sudo);
    if (previous !== null && o.keep !== undefined)
      await ctx.transport.exec(keepCopyCommand(path, o.keep), { sudo, check: true });
    await putFile(ctx, path, content, previous !== null, sudo);
    const test = await ctx.transport.exec(nginxTestCommand, { sudo });
    const failed = test.code !== 0 ? undefined : await reload(ctx, host, path, sudo);
    if (test.code === 0 && failed === undefined) return previous;
    await putFile(ctx, path, previous, content !== null, sudo);
    if (failed !== undefined) throw failed;
    const before = await ctx.transport.exec(nginxTestCommand, { sudo });
    throw refused(ctx, host, path, test, before.code !== 0);
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
  return replaceNginxFile(ctx, host, path, content, { sudo });
}

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
