/** For crash.test.ts: records a run into the journal at argv[2] and is SIGKILLed while applying step `c`. */
import { Redactor } from '../../core/redact.js';
import { makePlan } from '../../engine/plan.js';
import { runPlan } from '../../engine/run.js';
import { memoryStep } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { openJournal } from '../journal.js';

const journal = openJournal(process.argv[2]!);
const world = new Map<string, string>([['c', 'old']]);
const steps = ['a', 'b', 'c', 'd'].map((id) => memoryStep({ id, world, value: 'v' }));
steps[2]!.apply = async () => {
  process.kill(process.pid, 'SIGKILL');
};
const transport = new RecordingTransport();
await runPlan(makePlan(steps), {
  transports: () => transport,
  redactor: new Redactor(),
  onEvent: journal.recorder('crashed', { command: 'apply' }),
  maxPerHost: 1,
  runId: 'crashed',
  now: () => new Date('2025-01-02T03:04:05.000Z'),
});
