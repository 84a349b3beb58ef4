/**
 * Names that must exist: a stack's server, the server a service is placed on, the target
 * of a connection pool. Works on the raw input so that these errors are reported together
 * with schema errors; values of the wrong shape are left to the schema.
 */
import { finding, type Finding } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import { pathString, type SourceFile } from '../yaml/source.js';
import { at, hasOwn, isRecord } from './plain.js';
import { NAME_PATTERN, TARGET_PATTERN } from './schema.js';

/** The names defined in the fleet file, for the references to be checked against. */
interface Defined {
  file: SourceFile;
  /** Undefined when `servers` is not a mapping: the schema reports that, references to servers are not checked. */
  servers: Record<string, unknown> | undefined;
  stacks: Record<string, unknown>;
  serverNames: string[];
  stackNames: string[];
  /** The hint's sentence that lists the servers. */
  serverList: string;
}

const nameRe = new RegExp(NAME_PATTERN);
const targetRe = new RegExp(TARGET_PATTERN);

export function referenceFindings(input: Record<string, unknown>, file: SourceFile): Finding[] {
  const servers = isRecord(input['servers']) ? input['servers'] : undefined;
  const stacks = isRecord(input['stacks']) ? input['stacks'] : {};
  const serverNames = servers ? Object.keys(servers) : [];
  const serverList =
    serverNames.length > 0
      ? `Servers defined under servers: ${serverNames.join(', ')}.`
      : 'No servers are defined yet: add it under servers:.';
  const defined: Defined = { file, servers, stacks, serverNames, stackNames: Object.keys(stacks), serverList };
  const out: Finding[] = [];
  for (const [stackName, stack] of Object.entries(stacks)) {
    if (!isRecord(stack)) continue;
    out.push(...stackServerFindings(defined, stackName, stack));
    out.push(...placementFindings(defined, stackName, stack));
    out.push(...connectionFindings(defined, stackName, stack));
  }
  const monitoring = input['monitoring'];
  out.push(
    ...unknownServer(
      defined,
      isRecord(monitoring) ? monitoring['server'] : undefined,
      ['monitoring', 'server'],
      `The monitoring server must be a server of the fleet. ${defined.serverList}`,
    ),
  );
  return out;
}

function stackServerFindings(d: Defined, stackName: string, stack: Record<string, unknown>): Finding[] {
  return unknownServer(d, stack['server'], ['stacks', stackName, 'server'], d.serverList, { stack: stackName });
}

/** An `unknown-reference` finding when `server` is a well-formed name that `servers` lacks. */
function unknownServer(
  d: Defined,
  server: unknown,
  path: (string | number)[],
  hint: string,
  about: { stack?: string } = {},
): Finding[] {
  if (!d.servers || typeof server !== 'string' || !nameRe.test(server) || hasOwn(d.servers, server)) return [];
  const guess = suggest(server, d.serverNames);
  return [
    finding(
      'unknown-reference',
      'error',
      `unknown server "${server}" in ${pathString(path)}${guess ? `; did you mean "${guess}"?` : ''}`,
      at(d.file, path),
      hint,
      about,
    ),
  ];
}

/** `services: { svc: { server } }`: a server that exists, and not the stack's own. */
function placementFindings(d: Defined, stackName: string, stack: Record<string, unknown>): Finding[] {
  const placed = stack['services'];
  if (!isRecord(placed)) return [];
  const out: Finding[] = [];
  for (const [svc, pl] of Object.entries(placed)) {
    const there = isRecord(pl) ? pl['server'] : undefined;
    if (typeof there !== 'string' || !nameRe.test(there)) continue;
    const path = ['stacks', stackName, 'services', svc, 'server'];
    if (d.servers && !hasOwn(d.servers, there)) {
      const guess = suggest(there, d.serverNames);
      out.push(
        finding(
          'unknown-reference',
          'error',
          `unknown server "${there}" in ${pathString(path)}${guess ? `; did you mean "${guess}"?` : ''}`,
          at(d.file, path),
          d.serverList,
          { stack: stackName, service: svc },
        ),
      );
    } else if (there === stack['server']) {
      out.push(
        finding(
          'placement-same-server',
          'error',
          `${pathString(path)} places ${svc} on ${there}, the stack's own server`,
          at(d.file, path),
          `Remove stacks/${stackName}/services/${svc}: a service runs on the stack's server unless placed on another one.`,
          { stack: stackName, service: svc },
        ),
      );
    }
  }
  return out;
}

/** `connections[].to`: `server:NAME` a server that exists, `STACK/SERVICE` a stack that exists. */
function connectionFindings(d: Defined, stackName: string, stack: Record<string, unknown>): Finding[] {
  const connections = stack['connections'];
  if (!Array.isArray(connections)) return [];
  const out: Finding[] = [];
  connections.forEach((c: unknown, i) => {
    if (!isRecord(c)) return;
    const to = c['to'];
    if (typeof to !== 'string' || !targetRe.test(to)) return;
    const path = ['stacks', stackName, 'connections', i, 'to'];
    const about = { stack: stackName, ...(typeof c['service'] === 'string' ? { service: c['service'] } : {}) };
    const found = to.startsWith('server:') ? serverTargetProblem(d, to, path) : stackTargetProblem(d, to, path);
    if (found) out.push(finding('unknown-reference', 'error', found.message, at(d.file, path), found.hint, about));
  });
  return out;
}

type Problem = { message: string; hint: string } | undefined;

function serverTargetProblem(d: Defined, to: string, path: (string | number)[]): Problem {
  const target = to.slice('server:'.length);
  if (!d.servers || hasOwn(d.servers, target)) return undefined;
  const guess = suggest(target, d.serverNames);
  return {
    message: `unknown server "${target}" in ${pathString(path)}${guess ? `; did you mean "server:${guess}"?` : ''}`,
    hint: `server:NAME names a server with a Postgres installed on the host. ${d.serverList}`,
  };
}

function stackTargetProblem(d: Defined, to: string, path: (string | number)[]): Problem {
  const slash = to.indexOf('/');
  if (slash < 0) return undefined; // a service of this stack: checked against the compose files later
  const target = to.slice(0, slash);
  if (hasOwn(d.stacks, target)) return undefined;
  const guess = suggest(target, d.stackNames);
  return {
    message: `unknown stack "${target}" in ${pathString(path)}${guess ? `; did you mean "${guess}${to.slice(slash)}"?` : ''}`,
    hint: `STACK/SERVICE names a Postgres service of another stack; stacks defined: ${d.stackNames.join(', ')}. Write SERVICE alone for a service of this stack, or server:NAME for a Postgres installed on a server.`,
  };
}
