/**
 * `extends`: a service built on another one, in the same file or in another file
 * (resolved from the extending file's directory). The base's own `extends` are applied
 * first; cycles are reported with the chain that forms them.
 */
import { dirname, resolve } from 'node:path';
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

export interface ExtendsContext {
  /** Reads (and caches) another compose file with the project's environment. */
  readFile: (absPath: string) => { file?: ComposeFile; findings: Finding[] };
  /** Path as shown to the user. */
  show: (absPath: string) => string;
}

interface Resolved {
  service?: Dict;
  contributions: Contribution[];
  findings: Finding[];
}

/** Applies `extends` to every service of `file`; returns the services and their contributions. */
export function applyExtends(
  file: ComposeFile,
  ctx: ExtendsContext,
): { services: Dict; contributions: Map<string, Contribution[]>; findings: Finding[] } {
  const services = (file.data.services ?? {}) as Dict;
  const out: Dict = {};
  const contributions = new Map<string, Contribution[]>();
  const findings: Finding[] = [];
  for (const name of Object.keys(services)) {
    const r = resolveService(file, name, ctx, []);
    findings.push(...r.findings);
    if (r.service) out[name] = r.service;
    contributions.set(name, r.contributions);
  }
  return { services: out, contributions, findings };
}

function resolveService(file: ComposeFile, name: string, ctx: ExtendsContext, chain: string[]): Resolved {
  const services = (file.data.services ?? {}) as Dict;
  const svc = services[name] as Dict | undefined;
  const here: Contribution = { source: file.source, path: ['services', name] };
  const key = `${file.source.path}#${name}`;
  if (chain.includes(key)) {
    const cycle = [...chain.slice(chain.indexOf(key)), key]
      .map((k) => k.replace(/^(.*)#/, (_, p: string) => `${ctx.show(p)}#`))
      .join(' -> ');
    return {
      contributions: [here],
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
  if (!svc || typeof svc !== 'object') return { service: svc, contributions: [here], findings: [] };
  const ext = svc.extends;
  if (ext === undefined) return { service: svc, contributions: [here], findings: [] };
  const ref = typeof ext === 'string' ? ext : String((ext as Dict).service);
  const fileRef = typeof ext === 'object' && ext !== null ? (ext as Dict).file : undefined;
  let baseFile = file;
  if (typeof fileRef === 'string') {
    const abs = resolve(dirname(file.source.path), fileRef);
    const read = ctx.readFile(abs);
    if (!read.file) {
      // The file's own findings are reported by whoever reads it; a missing file is reported here, where it is named.
      const missing = read.findings
        .filter((f) => f.code === 'missing-file')
        .map((f) => ({ ...f, where: locWhere(file.source, ['services', name, 'extends', 'file']) }));
      return { contributions: [here], findings: missing };
    }
    baseFile = read.file;
  }
  const baseServices = (baseFile.data.services ?? {}) as Dict;
  if (!(ref in baseServices)) {
    const known = Object.keys(baseServices).join(', ') || 'none';
    return {
      contributions: [here],
      findings: [
        at(
          file.source,
          ['services', name, 'extends'],
          'unknown-reference',
          `service "${name}" extends "${ref}", which is not defined in ${baseFile.source.display}`,
          `Services defined there: ${known}.`,
        ),
      ],
    };
  }
  const base = resolveService(baseFile, ref, ctx, [...chain, key]);
  if (!base.service) return { contributions: [here, ...base.contributions], findings: base.findings };
  const baseSvc = baseFile === file ? base.service : rebaseService(base.service, dirname(baseFile.source.path));
  const merged = mergeValue(stripExtends(baseSvc), stripExtends(svc), ['services', name]) as Dict;
  return { service: merged, contributions: [here, ...base.contributions], findings: base.findings };
}

function stripExtends(svc: Dict): Dict {
  const { extends: _drop, ...rest } = svc;
  return rest;
}

function locWhere(source: SourceFile, path: KeyPath): Finding['where'] {
  const w = locate(source, path);
  return { file: w.file, line: w.line, column: w.column, path: w.path };
}

function at(source: SourceFile, path: KeyPath, code: string, message: string, hint: string): Finding {
  return finding(code, 'error', message, locWhere(source, path), hint);
}
