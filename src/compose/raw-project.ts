/**
 * The raw merged content of a set of Compose files, before profiles and normalization:
 * each file read and interpolated, `extends` applied per file, files merged in order,
 * then `include`d projects added. An included project is loaded the same way, on its own
 * (its own directory and env file), so loading and including recurse within this module.
 * A name defined twice is an error.
 */
import { dirname, resolve } from 'node:path';
import { finding, hasErrors, type Finding, type Where } from '../core/finding.js';
import { locate } from '../yaml/source.js';
import { readComposeFile, type ComposeFile, type Dict } from './compose-file.js';
import { applyExtends, type Contribution, type Resolved } from './extends.js';
import { mergeFiles } from './merge.js';
import { rebaseService } from './paths.js';
import { projectEnvironment } from './project-env.js';

/** Raw merged content of a set of files, with where each service was written. */
export interface RawProject {
  data: Dict;
  files: ComposeFile[];
  contributions: Map<string, Contribution[]>;
  findings: Finding[];
  /** Of every file read (named, extended, included) and of included projects' env files. */
  secrets: string[];
}

/** Reads, extends and merges `files`, then adds their `include`s. */
export function loadRaw(
  files: string[],
  env: Record<string, string>,
  show: (p: string) => string,
  seen: Set<string> = new Set(),
): RawProject {
  const cache = new Map<string, ReturnType<typeof readComposeFile>>();
  const readFile = (abs: string): ReturnType<typeof readComposeFile> => {
    let r = cache.get(abs);
    if (!r) {
      r = readComposeFile(abs, show(abs), env);
      cache.set(abs, r);
    }
    return r;
  };
  const loaded: ComposeFile[] = [];
  const resolved = new Map<string, Resolved>();
  const contributions = new Map<string, Contribution[]>();
  const extended: Dict[] = [];
  const extendsFindings: Finding[] = [];
  for (const abs of files) {
    const r = readFile(abs);
    if (!r.file) continue;
    loaded.push(r.file);
    const ext = applyExtends(r.file, { readFile, show, resolved });
    extendsFindings.push(...ext.findings);
    for (const [name, c] of ext.contributions) contributions.set(name, [...c, ...(contributions.get(name) ?? [])]);
    extended.push({ ...r.file.data, services: ext.services });
  }
  // Every file read (named or reached through `extends`) reports its own findings once;
  // a missing `extends.file` is reported where it is named instead.
  const findings: Finding[] = [];
  const secrets: string[] = [];
  for (const [abs, r] of cache) {
    findings.push(...r.findings.filter((f) => files.includes(abs) || f.code !== 'missing-file'));
    secrets.push(...r.secrets);
  }
  findings.push(...extendsFindings);
  const raw: RawProject = { data: mergeFiles(extended), files: loaded, contributions, findings, secrets };
  if (hasErrors(findings)) return raw;
  return applyIncludes(raw, env, show, seen);
}

const KINDS = ['services', 'volumes', 'networks', 'secrets', 'configs'] as const;

interface IncludeEntry {
  files: string[];
  projectDir: string;
  envFiles?: string[];
  index: number;
}

function entries(raw: RawProject): IncludeEntry[] {
  const list = raw.data.include;
  if (!Array.isArray(list)) return [];
  const base = dirname(raw.files[0]!.source.path);
  return list.map((e, index) => {
    const d: Dict = typeof e === 'string' ? { path: e } : (e as Dict);
    const paths = (Array.isArray(d.path) ? d.path : [d.path]).map((p) => resolve(base, String(p)));
    const projectDir =
      typeof d.project_directory === 'string' ? resolve(base, d.project_directory) : dirname(paths[0]!);
    const envFiles =
      d.env_file === undefined
        ? undefined
        : (Array.isArray(d.env_file) ? d.env_file : [d.env_file]).map((p) => resolve(base, String(p)));
    return { files: paths, projectDir, ...(envFiles ? { envFiles } : {}), index };
  });
}

function applyIncludes(
  raw: RawProject,
  env: Record<string, string>,
  show: (p: string) => string,
  seen: Set<string>,
): RawProject {
  const list = entries(raw);
  if (list.length === 0) return raw;
  const data: Dict = { ...raw.data };
  delete data.include;
  const into: RawProject = {
    data,
    files: [...raw.files],
    contributions: new Map(raw.contributions),
    findings: [...raw.findings],
    secrets: [...raw.secrets],
  };
  const first = raw.files[0]!.source;
  for (const inc of list) {
    const w = locate(first, ['include', inc.index]);
    const where = { file: w.file, line: w.line, column: w.column, path: w.path };
    const key = inc.files.join('|');
    if (seen.has(key)) {
      into.findings.push(
        finding(
          'include-cycle',
          'error',
          `include forms a cycle through ${inc.files.map(show).join(', ')}`,
          where,
          'Remove the include that leads back to a file already being loaded.',
        ),
      );
      continue;
    }
    const penv = projectEnvironment(
      inc.projectDir,
      env,
      inc.envFiles?.map((p) => ({ path: p, display: show(p) })),
      where,
      show,
    );
    into.findings.push(...penv.findings);
    into.secrets.push(...penv.secrets);
    const sub = loadRaw(inc.files, { ...env, ...penv.env }, show, new Set([...seen, key]));
    into.findings.push(...sub.findings);
    into.secrets.push(...sub.secrets);
    into.files.push(...sub.files);
    addIncluded(into, sub, inc, where, show);
  }
  return into;
}

/** Adds the resources of an included project to `into` (its data and contributions, in place). */
function addIncluded(into: RawProject, sub: RawProject, inc: IncludeEntry, where: Where, show: (p: string) => string) {
  const data = into.data;
  for (const kind of KINDS) {
    const mine = { ...((data[kind] ?? {}) as Dict) };
    for (const [name, value] of Object.entries((sub.data[kind] ?? {}) as Dict)) {
      if (name in mine && JSON.stringify(mine[name]) !== JSON.stringify(value)) {
        into.findings.push(
          finding(
            'include-conflict',
            'error',
            `${kind}/${name} from the included ${inc.files.map(show).join(', ')} is also defined in this project`,
            where,
            `Rename one of them; Compose refuses to import a ${kind.slice(0, -1)} that already exists.`,
          ),
        );
        continue;
      }
      mine[name] = kind === 'services' ? rebaseService((value ?? {}) as Dict, inc.projectDir) : value;
      if (kind === 'services') into.contributions.set(name, sub.contributions.get(name) ?? []);
    }
    if (Object.keys(mine).length > 0) data[kind] = mine;
  }
}
