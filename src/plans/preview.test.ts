import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../core/redact.js';
import { StepError } from '../engine/errors.js';
import { makePlan } from '../engine/plan.js';
import type { Step } from '../engine/step.js';
import { RecordingTransport } from '../transport/recording.js';
import { preview } from './preview.js';

const step = (
  id: string,
  o: { needed?: boolean; fails?: boolean; dependsOn?: string[]; recordOnly?: boolean } = {},
): Step => ({
  id,
  host: 'h',
  phase: 'prepare',
  title: id,
  dependsOn: o.dependsOn ?? [],
  doc: () => ({ purpose: '', commands: [], verify: '', undo: '' }),
  check: async () => {
    if (o.fails) throw new StepError('volume-missing', `${id}: no volume`, 'make it');
    return { needed: o.needed ?? false };
  },
  apply: async () => {},
  verify: async () => ({ ok: true }),
  rollback: async () => {},
  ...(o.recordOnly ? { recordOnly: true } : {}),
});
const statuses = async (steps: Step[]) =>
  (await preview(makePlan(steps), () => new RecordingTransport('h'), new Redactor())).steps.map(
    (s) => `${s.id}:${s.status}`,
  );

test('a check that fails after a step still to change is put off to run time; after nothing to change, or after a marker only, it is an error', async () => {
  assert.deepEqual(
    await statuses([step('make', { needed: true }), step('use', { fails: true, dependsOn: ['make'] })]),
    ['make:change', 'use:change'],
  );
  assert.deepEqual(await statuses([step('make'), step('use', { fails: true, dependsOn: ['make'] })]), [
    'make:ok',
    'use:error',
  ]);
  assert.deepEqual(
    await statuses([
      step('mark', { needed: true, recordOnly: true }),
      step('use', { fails: true, dependsOn: ['mark'] }),
    ]),
    ['mark:change', 'use:error'],
  );
});
