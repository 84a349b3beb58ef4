/**
 * A configuration file of a hardened server: written whole, judged by its tool before it
 * takes effect (`fail2ban-client -t`, `apt-config dump`...), then activated (a reload, a
 * restart). The file it replaces is copied beside it first (`PATH.ferry-prev`), so that a
 * refused file, a failed activation or a rollback puts it back, even after a kill.
 */
import { createHash } from 'node:crypto';
import { StepError } from '../../engine/errors.js';
import type { Phase, Step, StepContext, StepDoc } from '../../engine/step.js';
import { keepCommand, previousPath, removeCommand, restoreCommand, sha256Command } from '../../engine/steps/file.js';
import { dirname } from 'node:path';
import { cmd, render, type Command } from '../../shell/command.js';
import { toolTail } from '../../tools/classify.js';
import type { StepErrorCode } from '../../tools/codes.js';

export interface ConfigFileOptions {
  id: string;
  host: string;
  path: string;
  /** A function is called at check time, with what it reads on the server. */
  content: string | ((ctx: StepContext) => Promise<string>);
  mode?: number;
  sudo: boolean;
  dependsOn: string[];
  title: string;
  purpose: string;
  phase?: Phase;
  /** Judges the configuration once written; a failure puts the previous file back. */
  validate?: Command;
  /** Makes it take effect once judged. */
  activate?: Command;
  /** The code of a file its tool refuses, and of an activation that fails. */
  invalidCode: StepErrorCode;
  failedCode: StepErrorCode;
  hint: string;
}

export interface ConfigFileObserved {
  existed: boolean;
  hash: string | null;
  content: string;
}

export const mkdirCommand = (path: string): Command => cmd('mkdir', '-p', '-m', '755', dirname(path));
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const short = (sha: string): string => `${sha.slice(0, 12)}…`;

/** The sha256 of a file on the step's host, or null when it is not there. */
export async function hashOn(ctx: StepContext, path: string, sudo: boolean): Promise<string | null> {
  const r = await ctx.transport.exec(sha256Command(path), { sudo });
  return r.code === 0 ? (/^([0-9a-f]{64})\s/.exec(r.stdout)?.[1] ?? null) : null;
}

export function configFileStep(o: ConfigFileOptions): Step<ConfigFileObserved> {
  const { sudo } = o;
  const fail = (ctx: StepContext, code: StepErrorCode, what: string, r: { stdout: string; stderr: string }) => {
    const tail = toolTail([r.stderr, r.stdout].filter((s) => s.trim() !== '').join('\n'), (s) =>
      ctx.redactor.redact(s),
    );
    return new StepError(code, `${o.host}: ${what}${tail ? `:\n${tail}` : ''}`, o.hint);
  };
  const putBack = async (ctx: StepContext, existed: boolean) => {
    await ctx.transport.exec(existed ? restoreCommand(o.path) : removeCommand(o.path), { sudo });
  };
  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'prepare',
    title: o.title,
    dependsOn: o.dependsOn,
    doc: () => configDoc(o),
    async check(ctx) {
      const have = await hashOn(ctx, o.path, sudo);
      const content = typeof o.content === 'string' ? o.content : await o.content(ctx);
      const p = ctx.prior as Partial<ConfigFileObserved> | undefined;
      const before =
        typeof p?.existed === 'boolean'
          ? { existed: p.existed, hash: p.hash ?? null }
          : { existed: have !== null, hash: have };
      const observed: ConfigFileObserved = { ...before, content };
      const next = sha256(content);
      if (have === next) return { needed: false, observed };
      const summary = have === null ? `${o.path}: create` : `${o.path}: sha256 ${short(have)} -> ${short(next)}`;
      return { needed: true, change: { summary }, observed };
    },
    async apply(ctx, observed) {
      if (observed.existed && (await hashOn(ctx, o.path, sudo)) === observed.hash)
        await ctx.transport.exec(keepCommand(o.path), { sudo, check: true });
      await ctx.transport.exec(mkdirCommand(o.path), { sudo, check: true });
      await ctx.transport.upload(o.path, observed.content, { mode: o.mode ?? 0o644, sudo });
      if (o.validate) {
        const r = await ctx.transport.exec(o.validate, { sudo });
        if (r.code !== 0) {
          await putBack(ctx, observed.existed);
          throw fail(
            ctx,
            o.invalidCode,
            `${render(o.validate)} refused the new ${o.path}; the previous file was put back`,
            r,
          );
        }
      }
      if (o.activate) {
        const r = await ctx.transport.exec(o.activate, { sudo });
        if (r.code !== 0) {
          await putBack(ctx, observed.existed);
          await ctx.transport.exec(o.activate, { sudo });
          throw fail(
            ctx,
            o.failedCode,
            `${render(o.activate)} failed with the new ${o.path}; the previous file was put back`,
            r,
          );
        }
      }
    },
    async verify(ctx, observed) {
      const have = await hashOn(ctx, o.path, sudo);
      if (have !== sha256(observed.content))
        return {
          ok: false,
          message: `${o.path}: ${have === null ? 'missing' : `sha256 is ${short(have)}`}, not the content written`,
        };
      if (!o.validate) return { ok: true };
      const r = await ctx.transport.exec(o.validate, { sudo });
      return r.code === 0 ? { ok: true } : { ok: false, message: `${render(o.validate)} fails (exit ${r.code})` };
    },
    async rollback(ctx, observed) {
      const have = await hashOn(ctx, o.path, sudo);
      if (have === observed.hash) return;
      if (observed.existed && (await hashOn(ctx, previousPath(o.path), sudo)) !== observed.hash)
        throw new StepError(
          'rollback-impossible',
          `${o.host}: ${o.path} changed and its copy ${previousPath(o.path)} is not the file as it was`,
          `Restore ${o.path} on ${o.host} by hand (docs/harden.md says how).`,
        );
      await putBack(ctx, observed.existed);
      if (o.activate) await ctx.transport.exec(o.activate, { sudo });
    },
  };
}

function configDoc(o: ConfigFileOptions): StepDoc {
  const line = (c: Command) => `${o.sudo ? 'sudo ' : ''}${render(c)}`;
  return {
    purpose: `${o.purpose} The previous ${o.path} is copied to ${previousPath(o.path)} first${o.validate ? `; \`${render(o.validate)}\` judges the new one before it takes effect, and a refusal puts the previous one back` : ''}.`,
    commands: [
      line(sha256Command(o.path)),
      line(keepCommand(o.path)),
      ...(o.validate ? [line(o.validate)] : []),
      ...(o.activate ? [line(o.activate)] : []),
    ],
    verify: `sha256sum ${o.path} shows the new content's hash${o.validate ? ` and \`${render(o.validate)}\` passes` : ''}.`,
    undo: `Put back ${previousPath(o.path)} (or remove ${o.path} if there was none)${o.activate ? `, then ${line(o.activate)}` : ''}.`,
  };
}
