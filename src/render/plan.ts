/** A plan for people: a table, a markdown runbook to approve, and one line per step while it runs. */
import type { Preview, PreviewStep } from '../plans/preview.js';
import type { RunEvent, RunSummary } from '../engine/events.js';
import { table } from './table.js';

const MARK: Record<PreviewStep['status'], string> = { change: 'change', ok: 'ok', error: 'ERROR' };

function what(s: PreviewStep): string {
  if (s.status === 'error') return `${s.error!.code}: ${s.error!.message}`;
  if (s.status === 'ok') return 'no change';
  return s.change?.summary ?? 'change';
}

export function countChanges(p: Preview): { change: number; ok: number; error: number } {
  const out = { change: 0, ok: 0, error: 0 };
  for (const s of p.steps) out[s.status] += 1;
  return out;
}

export function renderPlanTable(p: Preview): string {
  const rows = p.steps.map((s, i) => [String(i + 1), s.phase, s.host, s.id, MARK[s.status], what(s)]);
  const c = countChanges(p);
  const errors = p.steps.filter((s) => s.status === 'error').map((s) => `  hint (${s.id}): ${s.error!.hint}`);
  return `${table(['#', 'phase', 'server', 'step', 'status', 'what'], rows)}\n\n${c.change} to change, ${c.ok} unchanged, ${c.error} failed to check\n${errors.length > 0 ? `${errors.join('\n')}\n` : ''}`;
}

const fence = (lines: string[]): string => ['```sh', ...lines, '```'].join('\n');

export function renderRunbook(
  p: Preview,
  meta: { fleetFile: string; createdAt: string; stacks: string[]; releases: Record<string, string> },
): string {
  const c = countChanges(p);
  const out: string[] = [
    `# Ferry plan: ${meta.stacks.join(', ')}`,
    '',
    `- Fleet file: \`${meta.fleetFile}\``,
    `- Made at: ${meta.createdAt}`,
    `- Releases: ${Object.entries(meta.releases)
      .map(([s, id]) => `${s} \`${id}\``)
      .join(', ')}`,
    `- Facts fingerprint: \`${p.fingerprint}\``,
    `- Steps: ${p.steps.length} (${c.change} to change, ${c.ok} unchanged, ${c.error} failed to check)`,
    '',
    'Apply it with `ferry apply plan.json` (saved with `--out`): Ferry refuses it if the servers or the files changed since. Every step is checked again right before it runs; a failed step is rolled back, then every step the run changed, last first.',
    '',
  ];
  p.steps.forEach((s, i) => {
    out.push(`## ${i + 1}. ${s.title}`, '', `\`${s.id}\` on **${s.host}**, phase ${s.phase}: **${what(s)}**`, '');
    if (s.change?.before !== undefined || s.change?.after !== undefined)
      out.push(`Before: \`${s.change.before ?? ''}\` → after: \`${s.change.after ?? ''}\``, '');
    out.push(
      `**Purpose.** ${s.doc.purpose}`,
      '',
      '**Commands.**',
      '',
      fence(s.doc.commands),
      '',
      `**Verified by.** ${s.doc.verify}`,
      '',
      `**Undone by.** ${s.doc.undo}`,
      '',
    );
    if (s.error) out.push(`**Check failed.** ${s.error.message}. Hint: ${s.error.hint}`, '');
  });
  return `${out.join('\n').trimEnd()}\n`;
}

/** One line per event worth a line; undefined for the others. */
export function progressLine(e: RunEvent, titles: Map<string, string>): string | undefined {
  const t = (id: string) => `${id} (${titles.get(id) ?? ''})`;
  switch (e.kind) {
    case 'run-start':
      return `run ${e.runId}: ${e.steps.length} steps`;
    case 'step-checked':
      return e.needed ? `  … ${e.stepId}: ${e.change?.summary ?? 'change'}` : undefined;
    case 'step-end': {
      const mark = { ok: '✓', changed: '✓', failed: '✗', skipped: '-' }[e.outcome];
      const secs = (e.durationMs / 1000).toFixed(1);
      const line = `${mark} ${t(e.stepId)}: ${e.outcome}${e.outcome === 'skipped' ? '' : ` in ${secs} s`}`;
      return e.error ? `${line}\n    error ${e.error.code}: ${e.error.message}\n    hint: ${e.error.hint}` : line;
    }
    case 'rollback-end':
      return e.ok ? `↺ rolled back ${e.stepId}` : `✗ rollback of ${e.stepId} failed: ${e.error?.message ?? ''}`;
    default:
      return undefined;
  }
}

export function renderSummary(s: RunSummary, runId: string): string {
  const lines = [`${s.changed} changed, ${s.ok} unchanged, ${s.failed} failed, ${s.skipped} skipped (run ${runId})`];
  if (s.changed === 0 && s.failed === 0) lines.push('nothing changed: the servers already match');
  if (s.rolledBack.length > 0) lines.push(`rolled back: ${s.rolledBack.join(', ')}`);
  if (s.rollbackFailed.length > 0) lines.push(`ROLLBACK FAILED (look at the servers): ${s.rollbackFailed.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
