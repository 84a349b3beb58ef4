/**
 * A Postgres service of a stack tuned from its size (`stacks.NAME.services.SERVICE.tune`):
 * the same rules as a Postgres on the host (host-postgres-tune.ts), from the service's
 * memory limit, else its server's `memory`. The settings go on its command line as `-c
 * NAME=VALUE` in the compose file Ferry writes, after the command's own words, so that the
 * release (and so the plan) shows them, and a setting the command already gives stays the
 * user's. `max_connections` is set only when nothing sets it yet: to what the pools that
 * connect to it need, with the connection-budget check's headroom.
 */
import { FerryError } from '../core/errors.js';
import { commandSetting, DEFAULT_MAX_CONNECTIONS, DEFAULT_SUPERUSER_RESERVED } from '../check/postgres-settings.js';
import { ADMIN_FRACTION, poolConnections } from '../check/rules/connection-budget.js';
import type { Service } from '../model/compose.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { databases } from '../migrate/postgres.js';
import { shown, sqlValue, TUNED, tuning, type Tuned } from './host-postgres-tune.js';

export interface ServiceTune {
  service: string;
  /** The service's command with the settings after its own words. */
  command: string[];
  /** What is set, as a person reads it: `shared_buffers=512 MB`. */
  settings: string[];
}

/** The connections the pools to `service` may open, with the check's headroom, rounded up to ten. */
function budgeted(stack: LoadedStack, service: string): number | undefined {
  const pools = stack.def.connections.filter((c) => c.to === service || c.to === `${stack.def.name}/${service}`);
  if (pools.length === 0) return undefined;
  const replicas = (name: string) => stack.project?.services.find((s) => s.name === name)?.replicas ?? 1;
  const demand = pools.reduce((n, p) => n + poolConnections(p, replicas(p.service)), 0);
  return Math.ceil((demand + DEFAULT_SUPERUSER_RESERVED) / (1 - ADMIN_FRACTION) / 10) * 10;
}

/** The command as a list of words; a string is split on blanks (refused when it quotes). */
function words(svc: Service, where: string): string[] {
  const c = svc.command;
  if (c === undefined) return ['postgres'];
  if (Array.isArray(c)) return [...c];
  if (/['"\\]/.test(c))
    throw new FerryError(
      'tune-command-unreadable',
      `${svc.name}'s command quotes words, so Ferry cannot add its settings to it safely`,
      where,
      'Write the command as a list (`command: ["postgres", "-c", "name=value"]`), or set the settings there and drop `tune`.',
      2,
    );
  return c.split(/\s+/).filter(Boolean);
}

export function serviceTunes(stack: LoadedStack, server: ServerDef): ServiceTune[] {
  const tuned = Object.entries(stack.def.tune ?? {}).filter(([, on]) => on);
  const project = stack.project;
  if (tuned.length === 0 || !project) return [];
  const pg = new Set(databases(project.services).map((d) => d.service));
  return tuned.map(([name]) => {
    const where = `stacks/${stack.def.name}/services/${name}/tune`;
    const svc = project.services.find((s) => s.name === name);
    if (!svc || !pg.has(name))
      throw new FerryError(
        'tune-not-postgres',
        `${name} is ${svc ? 'not a Postgres service (by its image)' : 'not a service of the stack'}: only Postgres is tuned`,
        where,
        `Tune a Postgres service: ${[...pg].join(', ') || 'the stack has none'}.`,
        2,
      );
    const bytes = svc.resources.memoryLimit ?? server.memory;
    if (bytes === undefined)
      throw new FerryError(
        'tune-memory-unknown',
        `how much memory ${name} may use is not known`,
        where,
        `Give ${name} a memory limit (deploy.resources.limits.memory), or the server its size (servers/${server.name}/memory).`,
        2,
      );
    const own = commandSetting(svc.command, 'max_connections');
    const max = own !== undefined ? Number(own) : (budgeted(stack, name) ?? DEFAULT_MAX_CONNECTIONS);
    const want = tuning(Math.floor(bytes / 1024), max);
    const set = TUNED.filter(
      (t: Tuned) =>
        commandSetting(svc.command, t) === undefined &&
        (t !== 'max_connections' || budgeted(stack, name) !== undefined),
    );
    return {
      service: name,
      command: [...words(svc, where), ...set.flatMap((t) => ['-c', `${t}=${sqlValue(t, want[t])}`])],
      settings: set.map((t) => `${t}=${shown(t, want[t])}`),
    };
  });
}

/** `doc` with each tuned service's command. */
export function withTunes(doc: Record<string, unknown>, tunes: ServiceTune[]): Record<string, unknown> {
  const services = { ...((doc.services ?? {}) as Record<string, Record<string, unknown>>) };
  for (const t of tunes) services[t.service] = { ...(services[t.service] ?? {}), command: t.command };
  return { ...doc, services };
}
