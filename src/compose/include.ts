/**
 * `include`: other Compose projects pulled into this one, each loaded on its own (its
 * own directory and env file) and its resources added. A name defined twice is an error.
 */
import { dirname, resolve } from 'node:path';
import { finding, type Finding } from '../core/finding.js';
import { locate } from '../yaml/source.js';
import type { Dict } from './compose-file.js';
import { loadRaw, type RawProject } from './load.js';
import { rebaseService } from './paths.js';
import { projectEnvironment } from './project-env.js';

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

export function applyIncludes(
  raw: RawProject,
  env: Record<string, string>,
  show: (p: string) => string,
  seen: Set<string>,
): RawProject {
  const list = entries(raw);
  if (list.length === 0) return raw;
  const data: Dict = { ...raw.data };
  delete data.include;
  const findings: Finding[] = [...raw.findings];
  const contributions = new Map(raw.contributions);
  const files = [...raw.files];
  const first = raw.files[0]!.source;
  for (const inc of list) {
    const where = (() => {
      const w = locate(first, ['include', inc.index]);
      return { file: w.file, line: w.line, column: w.column, path: w.path };
    })();
    const key = inc.files.join('|');
    if (seen.has(key)) {
      findings.push(
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
    );
    findings.push(...penv.findings);
    const sub = loadRaw(inc.files, { ...env, ...penv.env }, show, new Set([...seen, key]));
    findings.push(...sub.findings);
    files.push(...sub.files);
    for (const kind of KINDS) {
      const mine = { ...((data[kind] ?? {}) as Dict) };
      for (const [name, value] of Object.entries((sub.data[kind] ?? {}) as Dict)) {
        if (name in mine && JSON.stringify(mine[name]) !== JSON.stringify(value)) {
          findings.push(
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
        if (kind === 'services') contributions.set(name, sub.contributions.get(name) ?? []);
      }
      if (Object.keys(mine).length > 0) data[kind] = mine;
    }
  }
  return { data, files, contributions, findings };
}
