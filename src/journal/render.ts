/** The journal for people: a table of runs, and one line per event. Times are UTC. */
import type { RunEvent } from '../engine/events.js';
import { table } from '../render/table.js';
import type { RunRecord } from './journal.js';

const time = (iso: string) => iso.slice(11, 19);
const dateTime = (iso: string) => `${iso.slice(0, 10)} ${time(iso)}`;

export function renderRuns(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'no runs recorded yet\n';
  const rows = runs.map((r) => {
    const s = r.summary;
    const counts = s ? [s.changed, s.ok, s.failed, s.skipped].map(String) : ['-', '-', '-', '-'];
    return [r.id, dateTime(r.startedAt), r.status, ...counts, r.command];
  });
  return `${table(['RUN', 'STARTED (UTC)', 'STATUS', 'CHANGED', 'OK', 'FAILED', 'SKIPPED', 'COMMAND'], rows)}\n`;
}

export function renderEvent(e: RunEvent): string {
  const words = [time(e.at), e.kind, ...details(e)].filter((w) => w !== '');
  return words.join(' ');
}

function details(e: RunEvent): string[] {
  switch (e.kind) {
    case 'run-start':
      return [e.runId, `${e.steps.length} steps`];
    case 'step-start':
      return [e.stepId, `on ${e.host}`];
    case 'step-checked':
      return [e.stepId, e.needed ? `needed${e.change ? `: ${e.change.summary}` : ''}` : 'not needed'];
    case 'step-applied':
    case 'rollback-start':
      return [e.stepId];
    case 'step-transferred':
      return [e.stepId, `${e.bytes} bytes of ${e.transfer}`];
    case 'step-verified':
      return [e.stepId, e.ok ? 'ok' : `failed${e.message ? `: ${e.message}` : ''}`];
    case 'step-end':
      return [e.stepId, e.outcome, `${e.durationMs}ms`, e.error ? `${e.error.code}: ${e.error.message}` : ''];
    case 'rollback-end':
      return [e.stepId, e.ok ? 'ok' : 'failed', e.error ? `${e.error.code}: ${e.error.message}` : ''];
    case 'run-end': {
      const s = e.summary;
      return [`changed ${s.changed}, ok ${s.ok}, failed ${s.failed}, skipped ${s.skipped}`];
    }
    case 'run-refused':
      return [`${e.error.code}: ${e.error.message}`];
  }
}

/** One line per event; a run without `run-end` says so at the end. */
export function renderRun(run: RunRecord, events: readonly RunEvent[]): string {
  const lines = events.map(renderEvent);
  if (!events.some((e) => e.kind === 'run-end' || e.kind === 'run-refused'))
    lines.push(`(no run-end: the run is still running or was interrupted)`);
  return `run ${run.id}: ${run.command}, ${run.status}\n${lines.join('\n')}\n`;
}
