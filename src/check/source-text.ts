/**
 * The compose files' own text, for the few things the merged model can't tell: whether a
 * value was written literally or came from `${VAR}`, and what a disabled service declared.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Where } from '../core/finding.js';
import type { ComposeProject } from '../model/compose.js';
import type { CheckContext } from './context.js';

export class SourceText {
  private readonly cache = new Map<string, string | undefined>();
  private readonly lineCache = new Map<string, string[] | undefined>();

  constructor(
    private readonly ctx: CheckContext,
    private readonly project: ComposeProject,
  ) {}

  /**
   * Text of a file as the locator names it. Display paths are relative to the directory
   * Ferry ran in: the process's, or else one of the project directory's ancestors.
   */
  file(name: string): string | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const candidates = isAbsolute(name)
      ? [name]
      : [...new Set([resolve(name), ...ancestors(this.project.workingDir).map((d) => resolve(d, name))])];
    let text: string | undefined;
    for (const c of candidates) {
      text = this.ctx.readText(c);
      if (text !== undefined) break;
    }
    this.cache.set(name, text);
    return text;
  }

  /** The located line and the more-indented lines under it (its YAML block). */
  block(w: Where): string[] | undefined {
    if (!w.file || w.line === undefined) return undefined;
    if (!this.lineCache.has(w.file)) this.lineCache.set(w.file, this.file(w.file)?.split(/\r?\n/));
    const lines = this.lineCache.get(w.file);
    const first = lines?.[w.line - 1];
    if (!lines || first === undefined) return undefined;
    const indent = indentOf(first);
    const out = [first];
    // Read on from the line, not from a copy of the rest of the file: this runs once per finding.
    for (let i = w.line; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.trim() !== '' && indentOf(l) <= indent && !l.trimStart().startsWith('- ')) break;
      if (l.trim() !== '' && indentOf(l) < indent) break;
      out.push(l);
    }
    return out;
  }

  /**
   * The line where `key` is written in a mapping or `KEY=value` list located at `w`
   * (the locator may stop at the parent key); undefined when unknown.
   */
  keyLine(w: Where, key: string): string | undefined {
    const b = this.block(w);
    if (!b) return undefined;
    if (b[0]?.includes(key)) return b[0];
    const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`^\\s*(-\\s*)?["']?${esc}["']?\\s*[=:]`);
    return b.find((l) => re.test(l));
  }
}

function ancestors(dir: string): string[] {
  const out = [dir];
  for (let d = dir; dirname(d) !== d; d = dirname(d)) out.push(dirname(d));
  return out;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
