/**
 * `extends`: a service built on another one, in the same file or in another file
 * (resolved from the extending file's directory). The base's own `extends` are applied
 * first; cycles are reported with the chain that forms them. Each service is resolved
 * once (a chain of n services costs n merges, not n²), and a chain may be at most
 * MAX_EXTENDS deep, so that resolving never runs out of stack.
 */
import { dirname, resolve } from 'node:path';
import type { FindingCode } from '../core/codes.js';
import { finding, type Finding } from '../core/finding.js';
import { locate, type KeyPath, type SourceFile } from '../yaml/source.js';
import type { ComposeFile, Dict } from './compose-file.js';
import { mergeValue } from './merge.js';
import { rebaseService } from './paths.js';

/** Where a service's keys were written, most specific first (for the locator). */
export interface Contribution {
  source: SourceFile;
  path: KeyPath;
}

/** Deepest chain of `extends`: far beyond any real project, far below the stack's limit. */
export const MAX_EXTENDS = 64;

export interface ExtendsContext {
  /** Reads (and caches) another compose file with the project's environment. */
  readFile: (absPath: string) => { file?: ComposeFile; findings: Finding[] };
  /** Path as shown to the user. */
  show: (absPath: string) => string;
  /** Services already resolved, by `path#name`, for every file of the project. */
  resolved: Map<string, Resolved>;
}

export interface Resolved {
  service?: Dict;
  contributions: Contribution[];
  findings: Finding[];
  /** How many `extends` lead from the service to its root. */
  depth: number;
}

/** Applies `extends` to every service of `file`; returns the services and their contributions. */
export function applyExtends(
  file: ComposeFile,
  ctx: ExtendsContext,
): { services: Dict; contributions: Map<string, Contribution[]>; findings: Finding[] } {
  const services = (file.data.services ?? {}) as Dict;
  const out: Dict = {};
  const contributions = new Map<string, Contribution[]>();
  // A base's problem reaches every service built on it: reported once.
  const findings = new Set<Finding>();
  for (const name of Object.keys(services)) {
    const r = resolveService(file, name, ctx);
    for (const f of r.findings) findings.add(f);
    if (r.service) out[name] = r.service;
    contributions.set(name, r.contributions);
  }
  return { services: out, contributions, findings: [...findings] };
}

/** A service that extends another: what folding its base into it needs. */
interface Link {
  key: string;
  file: ComposeFile;
  name: string;
  svc: Dict;
  baseFile: ComposeFile;
}

const keyOf = (file: ComposeFile, name: string): string => `${file.source.path}#${name}`;
const here = (file: ComposeFile, name: string): Contribution => ({ source: file.source, path: ['services', name] });

/**
 * Walks up the chain of `extends` from a service to a service already resolved, one that
 * extends nothing, or a problem; then folds each base into the service above it. No
 * recursion: a long chain costs memory for its links, not stack.
 */
function resolveService(file: ComposeFile, name: string, ctx: ExtendsContext): Resolved {
  const links: Link[] = [];
  const onChain = new Map<string, number>();
  let bottom: Resolved;
  for (let cur = { file, name }; ;) {
    const key = keyOf(cur.file, cur.name);
    const known = ctx.resolved.get(key);
    if (known) {
      bottom = known;
      break;
    }
    const seen = onChain.get(key);
    if (seen !== undefined) {
      bottom = cycleOf(cur.file, cur.name, [...links.slice(seen).map((l) => l.key), key], ctx);
      break;
    }
    const step = stepOf(cur.file, cur.name, ctx);
    if ('result' in step) {
      ctx.resolved.set(key, step.result);
      bottom = step.result;
      break;
    }
    onChain.set(key, links.length);
    links.push({ key, file: cur.file, name: cur.name, svc: step.svc, baseFile: step.baseFile });
    cur = { file: step.baseFile, name: step.ref };
  }
  let base = bottom;
  for (let i = links.length - 1; i >= 0; i--) {
    base = fold(links[i]!, base);
    ctx.resolved.set(links[i]!.key, base);
  }
  return base;
}

function cycleOf(file: ComposeFile, name: string, keys: string[], ctx: ExtendsContext): Resolved {
  const cycle = keys.map((k) => k.replace(/^(.*)#/, (_, p: string) => `${ctx.show(p)}#`)).join(' -> ');
  return {
    contributions: [here(file, name)],
    depth: 0,
    findings: [
      at(
        file.source,
        ['services', name, 'extends'],
        'extends-cycle',
        `extends forms a cycle: ${cycle}`,
        'Break the cycle: a service cannot extend itself, directly or through others.',
      ),
    ],
  };
}

/** A service with nothing to extend, or what it extends, or why that cannot be found. */
function stepOf(
  file: ComposeFile,
  name: string,
  ctx: ExtendsContext,
): { result: Resolved } | { svc: Dict; baseFile: ComposeFile; ref: string } {
  const services = (file.data.services ?? {}) as Dict;
  const svc = services[name] as Dict | undefined;
  const alone = (findings: Finding[] = [], service?: Dict): { result: Resolved } => ({
    result: { ...(service !== undefined ? { service } : {}), contributions: [here(file, name)], findings, depth: 0 },
  });
  if (!svc || typeof svc !== 'object' || svc.extends === undefined) return alone([], svc);
  const ext = svc.extends;
  const ref = typeof ext === 'string' ? ext : String((ext as Dict).service);
  const fileRef = typeof ext === 'object' && ext !== null ? (ext as Dict).file : undefined;
  let baseFile = file;
  if (typeof fileRef === 'string') {
    const read = ctx.readFile(resolve(dirname(file.source.path), fileRef));
    // The file's own findings are reported by whoever reads it; a missing file is reported here, where it is named.
    if (!read.file)
      return alone(
        read.findings
          .filter((f) => f.code === 'missing-file')
          .map((f) => ({ ...f, where: locWhere(file.source, ['services', name, 'extends', 'file']) })),
      );
    baseFile = read.file;
  }
  const baseServices = (baseFile.data.services ?? {}) as Dict;
  if (!Object.hasOwn(baseServices, ref))
    return alone([
      at(
        file.source,
        ['services', name, 'extends'],
        'unknown-reference',
        `service "${name}" extends "${ref}", which is not defined in ${baseFile.source.display}`,
        `Services defined there: ${Object.keys(baseServices).join(', ') || 'none'}.`,
      ),
    ]);
  return { svc, baseFile, ref };
}

/** The service of `link` with its (resolved) base merged under it. */
function fold(link: Link, base: Resolved): Resolved {
  const { file, name, svc, baseFile } = link;
  const depth = base.depth + 1;
  const contributions = [here(file, name), ...base.contributions];
  if (!base.service) return { contributions, findings: base.findings, depth };
  if (depth > MAX_EXTENDS)
    return {
      contributions: [here(file, name)],
      depth,
      findings: [
        at(
          file.source,
          ['services', name, 'extends'],
          'extends-too-deep',
          `service "${name}" ends a chain of more than ${MAX_EXTENDS} extends`,
          'Extend a base that holds the shared settings directly, instead of chaining services one on another.',
        ),
      ],
    };
  const baseSvc = baseFile === file ? base.service : rebaseService(base.service, dirname(baseFile.source.path));
  const merged = mergeValue(stripExtends(baseSvc), stripExtends(svc), ['services', name]) as Dict;
  return { service: merged, contributions, findings: base.findings, depth };
}

function stripExtends(svc: Dict): Dict {
  const { extends: _drop, ...rest } = svc;
  return rest;
}

function locWhere(source: SourceFile, path: KeyPath): Finding['where'] {
  const w = locate(source, path);
  return { file: w.file, line: w.line, column: w.column, path: w.path };
}

function at(source: SourceFile, path: KeyPath, code: FindingCode, message: string, hint: string): Finding {
  return finding(code, 'error', message, locWhere(source, path), hint);
}
