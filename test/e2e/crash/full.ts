/**
 * The whole crash matrix (`npm run crash-matrix`): for each mode (dump, replicate, a move of
 * the database alone), every step boundary of the migration (killed right after the step
 * ended), resumed and rolled back, and every step boundary of its rollback (killed, then
 * rolled back again), as in crash-matrix.test.ts, on the test bed's host3 and host4. Writes
 * docs/crash-matrix.md: one row per kill point. `CRASH_MODES=dump,replicate` narrows it;
 * `CRASH_EVENTS=checked,applied,verified` kills inside the steps too. It takes under a
 * minute per point on a 2-core machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testbedHosts } from '../helpers.js';
import { cleanStack } from '../migrate-stack.js';
import { crashCycle, ferryRun, migrateArgs, type Bed, type CycleResult, type KillEvent, type Mode } from './cycle.js';
import { writeCrashStack } from './stack.js';

const STACK = 'tbcrash';
const modes = (process.env.CRASH_MODES ?? 'dump,replicate,service').split(',') as Mode[];
const events = (process.env.CRASH_EVENTS ?? 'end').split(',') as KillEvent[];
const docs = fileURLToPath(new URL('../../../docs/crash-matrix.md', import.meta.url));

const [source, target] = testbedHosts('debian-13').slice(2, 4) as [Bed['source'], Bed['target']];
const dir = mkdtempSync(join(tmpdir(), 'ferry-crash-full-'));
const bed: Bed = { dir, state: join(dir, 'state'), stack: STACK, domain: 'tbcrash.ferry.test', source, target };

const verdict = (r: CycleResult): string => {
  if (!r.killed) return 'not reached';
  const problems = [
    ...(r.resumed.code !== 0 ? ['resume failed'] : []),
    ...(r.missingAfterResume.length > 0 ? [`${r.missingAfterResume.length} writes missing after resume`] : []),
    ...(!r.servedAfterResume ? ['down after resume'] : []),
    ...(r.statusAfterResume.left.length + r.statusAfterResume.locks.length > 0 ? ['left after resume'] : []),
    ...(r.rolledBack.code !== 0 ? ['rollback failed'] : []),
    ...(r.missingAfterRollback.length > 0 ? [`${r.missingAfterRollback.length} writes missing after rollback`] : []),
    ...(!r.servedAfterRollback ? ['down after rollback'] : []),
    ...(r.statusAfterRollback.left.length + r.statusAfterRollback.locks.length > 0 ? ['left after rollback'] : []),
    ...(r.leaked ? ['secret printed'] : []),
  ];
  return problems.length === 0 ? 'ok' : problems.join('; ');
};

async function stepsOf(mode: Mode): Promise<string[]> {
  const r = await ferryRun(bed, [...migrateArgs(bed, mode), '--dry-run', '--json']);
  if (r.code !== 0) throw new Error(`the ${mode} plan: ${r.err}`);
  return (JSON.parse(r.out) as { steps: { id: string }[] }).steps.map((s) => s.id.slice(STACK.length + 1));
}

for (const h of [source, target]) cleanStack(h, STACK, ['db-data', 'cache-data']);
writeCrashStack(dir, bed);
const deployed = await ferryRun(bed, ['apply', '--yes']);
if (deployed.code !== 0) throw new Error(`deploy: ${deployed.err}`);
const rows: string[] = [];
const started = Date.now();
const record = (r: CycleResult) => {
  const where = r.point.during === 'rollback' ? 'rollback' : 'migration';
  const line = `| ${r.point.mode} | ${where} | \`${r.point.step}\` | ${r.point.event} | ${verdict(r)} | ${r.failed} | ${Math.round(r.gapMs / 100) / 10} s |`;
  rows.push(line);
  console.log(line);
  writeDoc(false);
};
/** The steps of the last rollback run in the journal, in the order they ended. */
async function rollbackSteps(): Promise<string[]> {
  const runs = JSON.parse((await ferryRun(bed, ['runs', '--json', '--limit', '1000'], {}, false)).out) as {
    runs: { id: string; command: string }[];
  };
  const last = runs.runs.find((r) => r.command.startsWith(`rollback ${STACK}`));
  if (!last) return [];
  const shown = JSON.parse((await ferryRun(bed, ['runs', 'show', last.id, '--json'], {}, false)).out) as {
    events: { kind: string; stepId?: string }[];
  };
  return shown.events.filter((e) => e.kind === 'step-end').map((e) => e.stepId!.slice(STACK.length + 1));
}
for (const mode of modes) {
  for (const step of await stepsOf(mode))
    for (const event of events) record(await crashCycle(bed, { mode, step, event }));
  for (const step of await rollbackSteps())
    for (const event of events) record(await crashCycle(bed, { mode, step, event, during: 'rollback' }));
}
/** docs/crash-matrix.md with the rows so far: rewritten after every point, so a run cut short still says what it found. */
function writeDoc(done: boolean): void {
  const minutes = Math.round((Date.now() - started) / 60_000);
  const narrowed = [
    ...(process.env.CRASH_MODES ? [`CRASH_MODES=${modes.join(',')}`] : []),
    ...(process.env.CRASH_EVENTS ? [`CRASH_EVENTS=${events.join(',')}`] : []),
  ];
  const command = `npm run testbed:up && ${[...narrowed, 'npm run crash-matrix'].join(' ')}`;
  writeFileSync(
    docs,
    [
      '# The crash matrix',
      '',
      `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}, modes ${modes.join(', ')}, ${rows.length} kill points, ${minutes} minutes${done ? '' : '; **stopped before the end: the points below are those it reached**'}; \`CRASH_MODES\` and \`CRASH_EVENTS\` narrow it, by default every mode: dump, replicate, service).`,
      '',
      'The crash stack (test/e2e/crash/stack.ts: a front end and an API behind nginx, a worker and a scheduler writing on',
      'their own, Redis with a password and AOF, Postgres) moved from host3 to host4 while a probe writes through',
      "host3's nginx. For each kill point, Ferry kills itself with SIGKILL right after that event of that step",
      '(`FERRY_TEST_KILL_AT`), then `ferry migrate --resume` and `ferry rollback` run (a rollback killed is run',
      'again). A row is `ok` when: the resume',
      'ended verified, every write the probe was told succeeded was in the database that served, the site answered,',
      "`ferry migrate --status` found nothing left and no lock; and the same after the rollback (the target's writes",
      'carried back), and no secret was printed. `not reached`: the step has no such event in that run (nothing to',
      "apply). Failed requests and the longest gap are the probe's, over the whole cycle.",
      '',
      '| mode | run killed | step | killed after | result | failed requests | longest gap |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}
writeDoc(true);
for (const h of [source, target]) cleanStack(h, STACK, ['db-data', 'cache-data']);
