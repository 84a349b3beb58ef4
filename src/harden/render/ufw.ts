/**
 * ufw's rules for a hardened server, pure: incoming denied by default, outgoing allowed,
 * and one `allow` per open port, each commented `ferry-harden …` so that Ferry finds (and
 * removes) only its own. The lines are those `ufw show added` prints, so that what is on
 * the server is compared with what should be without parsing ufw's tables.
 */
import { cmd, type Command } from '../../shell/command.js';
import type { FirewallAllow } from '../../model/harden.js';

export const COMMENT_PREFIX = 'ferry-harden';

/** The words after `ufw` that add the rule (and after `ufw delete` that remove it). */
export function ruleWords(a: FirewallAllow): string[] {
  const comment = ['comment', `${COMMENT_PREFIX} ${a.why}`];
  if (a.from.length === 0) return ['allow', `${a.port}/${a.proto}`, ...comment];
  return ['allow', 'proto', a.proto, 'from', a.from[0]!, 'to', 'any', 'port', a.port, ...comment];
}

/** One rule per source address: ufw takes one `from` per rule. */
export function expandSources(allow: FirewallAllow[]): FirewallAllow[] {
  return allow.flatMap((a) => (a.from.length <= 1 ? [a] : a.from.map((f) => ({ ...a, from: [f] }))));
}

/** The line `ufw show added` prints for a rule. */
export function addedLine(a: FirewallAllow): string {
  const comment = ` comment '${COMMENT_PREFIX} ${a.why}'`;
  if (a.from.length === 0) return `ufw allow ${a.port}/${a.proto}${comment}`;
  return `ufw allow from ${a.from[0]} to any port ${a.port} proto ${a.proto}${comment}`;
}

/**
 * A ufw command that changes its rules, holding a lock of the whole host: ufw rewrites its
 * rule files whole, and two changes at once (two steps of a plan, two runs) lose one.
 */
export const UFW_LOCK = '/run/ferry-ufw.lock';
export const ufw = (...args: string[]): Command => cmd('flock', '-w', '60', UFW_LOCK, 'ufw', ...args);

export const addCommand = (a: FirewallAllow): Command => ufw(...ruleWords(a));
export const deleteCommand = (a: FirewallAllow): Command => ufw('delete', ...ruleWords(a));

/** Ferry's rules among the lines of `ufw show added`, as ufw prints them. */
export function ferryLines(showAdded: string): string[] {
  return showAdded
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('ufw ') && l.includes(`comment '${COMMENT_PREFIX} `));
}

/** A rule back from its `ufw show added` line (for deleting rules Ferry no longer wants). */
export function parseAddedLine(line: string): FirewallAllow | undefined {
  const comment = /comment '([^']*)'$/.exec(line)?.[1];
  if (comment === undefined || !comment.startsWith(`${COMMENT_PREFIX} `)) return undefined;
  const why = comment.slice(COMMENT_PREFIX.length + 1);
  const simple = /^ufw allow (\d+(?::\d+)?)\/(tcp|udp) comment /.exec(line);
  if (simple) return { port: simple[1]!, proto: simple[2] as 'tcp' | 'udp', from: [], why };
  const full = /^ufw allow from (\S+) to any port (\S+) proto (tcp|udp) comment /.exec(line);
  if (full) return { port: full[2]!, proto: full[3] as 'tcp' | 'udp', from: [full[1]!], why };
  return undefined;
}

/** The plan of ufw commands from the current lines to the wanted rules. */
export function ufwChanges(
  current: string[],
  wanted: FirewallAllow[],
): { add: FirewallAllow[]; remove: FirewallAllow[] } {
  const want = new Map(expandSources(wanted).map((a) => [addedLine(a), a]));
  const have = new Set(current);
  const add = [...want].filter(([line]) => !have.has(line)).map(([, a]) => a);
  const remove = current
    .filter((l) => !want.has(l))
    .map(parseAddedLine)
    .filter((a): a is FirewallAllow => a !== undefined);
  return { add, remove };
}
