/**
 * The DNS provider hook: an executable on this machine (`dns.hook` of ferry.yml) that
 * changes one record, called with the change in its environment. Ferry's own
 * environment passes through (a provider token in it reaches the hook); what the hook
 * prints never shows a secret: its stderr is redacted before it enters an error.
 */
import type { Redactor } from '../core/redact.js';
import { REDACTED } from '../core/redact.js';
import { isCredentialName, urlPasswords } from '../core/secret-names.js';
import { cmd, type Command } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import type { RecordChange } from './dns-judge.js';

export const HOOK_TIMEOUT_MS = 2 * 60_000;
/** Lines of the hook's stderr kept in an error. */
export const HOOK_TAIL_LINES = 5;

/** The variables the hook reads, in a fixed order. Several addresses are separated by spaces; none: create (old) or remove (new). */
export function hookEnv(stack: string, c: RecordChange): [string, string][] {
  return [
    ['FERRY_STACK', stack],
    ['FERRY_DOMAIN', c.domain],
    ['FERRY_RECORD_TYPE', c.type],
    ['FERRY_OLD_ADDRESS', c.from.join(' ')],
    ['FERRY_NEW_ADDRESS', c.to.join(' ')],
    ['FERRY_TTL', String(c.ttl)],
  ];
}

/** `env FERRY_STACK=… … HOOK`: the hook with the change added to the environment it inherits. */
export function hookCommand(hook: string, stack: string, c: RecordChange): Command {
  return cmd('env', ...hookEnv(stack, c).map(([k, v]) => `${k}=${v}`), hook);
}

/** The undo of a change: the record back to what it held (removed, when it was created). */
export function reversed(c: RecordChange): RecordChange {
  return { ...c, from: c.to, to: c.from };
}

const AFTER_SCHEME = /\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const AFTER_KEY =
  /\b(token|password|passwd|secret|api[_-]?key|apikey|auth[_-]?key|authorization)(["']?\s*[:=]\s*["']?)(?!bearer\b|basic\b|\[REDACTED\])[^\s"',;&]{4,}/gi;

/**
 * The last lines of what a hook wrote, with every secret replaced: the values the
 * redactor knows, values of credential-named variables of the environment the hook ran
 * with, passwords in URLs, and whatever follows `Bearer`, `token=`, `password:` and the like.
 */
export function hookOutputTail(
  text: string,
  redactor: Redactor,
  env: NodeJS.ProcessEnv,
  lines = HOOK_TAIL_LINES,
): string {
  const secrets = Object.entries(env)
    .filter(([k, v]) => v !== undefined && v.length >= 4 && isCredentialName(k))
    .map(([, v]) => v!)
    .concat(urlPasswords(text))
    .sort((a, b) => b.length - a.length);
  let out = redactor.redact(text);
  for (const s of secrets) out = out.split(s).join(REDACTED);
  out = out.replace(AFTER_SCHEME, `$1$2${REDACTED}`).replace(AFTER_KEY, `$1$2${REDACTED}`);
  return out.trimEnd().split('\n').slice(-lines).join('\n');
}

function exitMeaning(code: number): string {
  if (code === 126) return '126: not executable';
  if (code === 127) return '127: not found';
  if (code > 128) return `${code}: killed by signal ${code - 128}`;
  return String(code);
}

/** A hook that failed: its exit code and the last lines of its stderr, redacted. */
export class DnsHookError extends StepError {
  constructor(hook: string, stack: string, c: RecordChange, why: string) {
    const vars = hookEnv(stack, c)
      .map(([k, v]) => `${k}=${v.includes(' ') || v === '' ? `'${v}'` : v}`)
      .join(' ');
    super(
      'dns-hook-failed',
      `dns.hook ${hook} failed to change ${c.type} ${c.domain} from ${c.from.join(' ') || '(none)'} to ${c.to.join(' ') || '(removed)'}: ${why}`,
      `Run it by hand to see why: \`${vars} ${hook}\`. It must exit 0 once the record holds FERRY_NEW_ADDRESS (or is removed, when that is empty). The record is as the hook left it.`,
    );
    this.name = 'DnsHookError';
  }
}

/** Runs the hook for one change on this machine; throws DnsHookError unless it exits 0. */
export async function runHook(o: {
  local: Transport;
  hook: string;
  stack: string;
  change: RecordChange;
  redactor: Redactor;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? HOOK_TIMEOUT_MS;
  let r;
  try {
    r = await o.local.exec(hookCommand(o.hook, o.stack, o.change), { timeoutMs });
  } catch (e) {
    if (e instanceof TransportError && e.code === 'command-timeout')
      throw new DnsHookError(
        o.hook,
        o.stack,
        o.change,
        `no exit after ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} (stopped)`,
      );
    throw e;
  }
  if (r.code === 0) return;
  const tail = hookOutputTail(r.stderr, o.redactor, o.env ?? process.env);
  throw new DnsHookError(
    o.hook,
    o.stack,
    o.change,
    `exit ${exitMeaning(r.code)}${tail ? `; its stderr ended with:\n${tail}` : ' (nothing on stderr)'}`,
  );
}
