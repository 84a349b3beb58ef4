/**
 * `max_connections` and `superuser_reserved_connections` of a Postgres service, as
 * Postgres itself would settle them: command-line `-c name=value` (or `--name=value`)
 * over the configuration file, over the built-in defaults (100 and 3).
 */
import type { Service } from '../model/compose.js';
import { words } from './common.js';
import type { CheckContext } from './context.js';

export const DEFAULT_MAX_CONNECTIONS = 100;
export const DEFAULT_SUPERUSER_RESERVED = 3;

export interface PostgresSettings {
  maxConnections: number;
  superuserReserved: number;
  /** Where max_connections came from: `its command`, a host file path, or `Postgres' default`. */
  source: string;
}

/** `-c name=value`, `-cname=value`, `--name=value` (`-` and `_` alike) from a command line. */
export function commandSetting(cmd: string[] | string | undefined, name: string): string | undefined {
  const text = ` ${words(cmd).join(' ')} `;
  const n = name.replace(/_/g, '[_-]');
  const re = new RegExp(`\\s(?:-c\\s*|--)${n}\\s*=\\s*(\\S+)`, 'g');
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last?.replace(/^["']|["']$/g, '');
}

/** `name = value` from postgresql.conf text (the last one wins, as in Postgres). */
export function confSetting(text: string, name: string): string | undefined {
  let last: string | undefined;
  const re = new RegExp(`^\\s*${name}\\s*=?\\s*'?([^'#\\s]+)'?`);
  for (const line of text.split(/\r?\n/)) {
    const m = re.exec(line);
    if (m) last = m[1];
  }
  return last;
}

/** The host file behind a container path, through the service's bind mounts. */
function hostPath(s: Service, containerPath: string): string | undefined {
  for (const m of s.volumes) {
    if (m.type !== 'bind' || !m.source) continue;
    const t = m.target.replace(/\/+$/, '');
    if (containerPath === t) return m.source;
    if (containerPath.startsWith(`${t}/`)) return `${m.source.replace(/\/+$/, '')}${containerPath.slice(t.length)}`;
  }
  return undefined;
}

/** The bind-mounted postgresql.conf: the one `config_file` names, else any mounted file named postgresql.conf. */
function configFile(s: Service): string | undefined {
  const named = commandSetting(s.command, 'config_file');
  if (named) return hostPath(s, named);
  return s.volumes.find((m) => m.type === 'bind' && m.source && /(^|\/)postgresql\.conf$/.test(m.target))?.source;
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export function postgresSettings(s: Service, ctx: CheckContext): PostgresSettings {
  const file = configFile(s);
  const text = file !== undefined ? ctx.readText(file) : undefined;
  const cmdMax = toInt(commandSetting(s.command, 'max_connections'));
  const fileMax = text !== undefined ? toInt(confSetting(text, 'max_connections')) : undefined;
  const reserved =
    toInt(commandSetting(s.command, 'superuser_reserved_connections')) ??
    (text !== undefined ? toInt(confSetting(text, 'superuser_reserved_connections')) : undefined) ??
    DEFAULT_SUPERUSER_RESERVED;
  if (cmdMax !== undefined) return { maxConnections: cmdMax, superuserReserved: reserved, source: 'its command' };
  if (fileMax !== undefined && file !== undefined)
    return { maxConnections: fileMax, superuserReserved: reserved, source: file };
  return { maxConnections: DEFAULT_MAX_CONNECTIONS, superuserReserved: reserved, source: "Postgres' default" };
}
