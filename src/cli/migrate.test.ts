import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../engine/events.js';
import type { Migration } from '../migrate/context.js';
import { servingMark } from './migrate.js';

const marks = (): Pick<Migration, 'marks'> => ({ marks: { startedAt: 0, bytes: 0, tables: [], volumes: [] } });
const at = (ms: number) => new Date(ms).toISOString();

test('the serving mark is the moment the step that serves again verified, once, from the run events', () => {
  const m = marks();
  const mark = servingMark(m, 'shop/migrate/switch');
  const events: RunEvent[] = [
    { at: at(1000), kind: 'step-verified', stepId: 'shop/migrate/start', ok: true },
    { at: at(2000), kind: 'step-verified', stepId: 'shop/migrate/switch', ok: false },
    { at: at(3000), kind: 'step-applied', stepId: 'shop/migrate/switch' },
    { at: at(4000), kind: 'step-verified', stepId: 'shop/migrate/switch', ok: true },
    { at: at(5000), kind: 'step-verified', stepId: 'shop/migrate/switch', ok: true },
  ];
  for (const e of events) mark(e);
  assert.equal(m.marks.servingAt, 4000);
});

test('a serving step found done (a resumed run) leaves the mark unset: the downtime is not measured', () => {
  const m = marks();
  const mark = servingMark(m, 'shop/up');
  mark({ at: at(1000), kind: 'step-checked', stepId: 'shop/up', needed: false });
  mark({ at: at(1100), kind: 'step-end', stepId: 'shop/up', outcome: 'ok', durationMs: 100 });
  assert.equal(m.marks.servingAt, undefined);
});
