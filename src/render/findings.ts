/** Findings as text: one block per finding, then a one-line summary. */
import { formatWhere, type Finding } from '../core/finding.js';

export function renderFindings(findings: readonly Finding[]): string {
  const blocks = findings.map((f) => {
    const who = [f.stack, f.service].filter(Boolean).join('/');
    const head = `${f.severity.toUpperCase()} ${f.code}${who ? ` [${who}]` : ''}: ${f.message}`;
    const where = formatWhere(f.where);
    return [head, where ? `  at ${where}` : undefined, f.hint ? `  hint: ${f.hint}` : undefined]
      .filter(Boolean)
      .join('\n');
  });
  const count = (s: Finding['severity']): number => findings.filter((f) => f.severity === s).length;
  const n = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;
  const summary = `${n(count('error'), 'error')}, ${n(count('warning'), 'warning')}, ${n(count('info'), 'note')}`;
  return [...blocks, blocks.length > 0 ? '' : undefined, summary].filter((x) => x !== undefined).join('\n') + '\n';
}
