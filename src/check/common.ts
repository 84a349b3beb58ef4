/** Small helpers shared by the rules. */
import { formatWhere, type Finding, type Where } from '../core/finding.js';
import type { ComposeProject, Service } from '../model/compose.js';
import type { StackDef } from '../model/fleet.js';
import type { LoadedFleet } from '../model/loaded.js';

/** A stack whose Compose project loaded. Rules skip the others (their loader findings say why). */
export interface StackView {
  name: string;
  server?: string;
  def: StackDef;
  project: ComposeProject;
}

export function loadedStacks(fleet: LoadedFleet): StackView[] {
  const out: StackView[] = [];
  for (const s of fleet.stacks) {
    if (!s.project) continue;
    const v: StackView = { name: s.def.name, def: s.def, project: s.project };
    if (s.def.server !== undefined) v.server = s.def.server;
    out.push(v);
  }
  return out;
}

/** `stack`/`service`/`server` of a finding, leaving out what is unknown. */
export function ids(st: StackView, service?: string): Pick<Finding, 'stack' | 'service' | 'server'> {
  const out: Pick<Finding, 'stack' | 'service' | 'server'> = { stack: st.name };
  if (service !== undefined) out.service = service;
  if (st.server !== undefined) out.server = st.server;
  return out;
}

/** Position of a key under `services/<svc>/...` in the stack's compose files. */
export function locSvc(st: StackView, svc: string, ...rest: (string | number)[]): Where {
  return st.project.locate(['services', svc, ...rest]);
}

/** `file:line:column` when known, else whatever formatWhere can say. */
export function place(w: Where): string {
  if (w.file && w.line !== undefined) return `${w.file}:${w.line}${w.column !== undefined ? `:${w.column}` : ''}`;
  return formatWhere(w);
}

/** `command`/`entrypoint` as words: list items, each split on whitespace, quotes removed. */
export function words(cmd: string[] | string | undefined): string[] {
  if (cmd === undefined) return [];
  const parts = Array.isArray(cmd) ? cmd : [cmd];
  return parts
    .flatMap((p) => p.split(/\s+/))
    .map((w) => w.replace(/^["']+|["']+$/g, ''))
    .filter((w) => w.length > 0);
}

/** Names of services that some other service depends on with `condition`. */
export function dependedOnWith(project: ComposeProject, condition: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of project.services) {
    for (const [dep, d] of Object.entries(s.dependsOn)) {
      if (d.condition !== condition) continue;
      const waiters = out.get(dep);
      if (waiters) waiters.push(s.name);
      else out.set(dep, [s.name]);
    }
  }
  return out;
}

const byName = new WeakMap<ComposeProject, Map<string, Service>>();

/** A project's service by name, from a map built once per project (rules look services up per pool, per route). */
export function serviceNamed(project: ComposeProject, name: string): Service | undefined {
  let m = byName.get(project);
  if (!m) byName.set(project, (m = new Map(project.services.map((s) => [s.name, s]))));
  return m.get(name);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function hasHealthcheck(s: Service): boolean {
  const h = s.healthcheck;
  if (!h || h.disabled) return false;
  return !(h.test && h.test[0]?.toUpperCase() === 'NONE');
}
