import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../core/redact.js';
import { LocalTransport } from '../../transport/local.js';
import type { RunEvent } from '../events.js';
import { makePlan } from '../plan.js';
import { runPlan } from '../run.js';
import type { Step } from '../step.js';
import { memoryStep } from '../test-helpers.js';
import { fileStep } from './file.js';

const local = new LocalTransport({ name: 'here' });
const run = async (...steps: Step[]) => {
  const events: RunEvent[] = [];
  const summary = await runPlan(makePlan(steps), {
    transports: () => local,
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
  });
  return { summary, events };
};
const counts = ({
  changed,
  ok,
  failed,
  skipped,
}: {
  changed: number;
  ok: number;
  failed: number;
  skipped: number;
}) => ({ changed, ok, failed, skipped });
const failing = (after: string) =>
  memoryStep({
    id: 'then-fails',
    host: 'here',
    phase: 'deploy',
    dependsOn: [after],
    world: new Map(),
    value: 'v',
    failVerify: 'simulated',
  });

test('real files: create, unchanged, change, and a later failure restores the old content and mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-engine-'));
  try {
    const path = join(dir, 'app.conf');
    const file = (content: string, mode: number) => fileStep({ id: 'conf', host: 'here', path, content, mode });
    const mode = () => statSync(path).mode & 0o777;

    assert.deepEqual(counts((await run(file('v1\n', 0o644))).summary), { changed: 1, ok: 0, failed: 0, skipped: 0 });
    assert.deepEqual([readFileSync(path, 'utf8'), mode()], ['v1\n', 0o644]);

    assert.deepEqual(counts((await run(file('v1\n', 0o644))).summary), { changed: 0, ok: 1, failed: 0, skipped: 0 });

    const { summary, events } = await run(file('v2\n', 0o644));
    assert.equal(summary.changed, 1);
    const checked = events.find((e) => e.kind === 'step-checked');
    assert.match(
      checked?.kind === 'step-checked' ? (checked.change?.summary ?? '') : '',
      /^.*app\.conf: sha256 [0-9a-f]{12}… -> [0-9a-f]{12}…$/,
    );

    const failed = await run(file('v3\n', 0o600), failing('conf'));
    assert.deepEqual(failed.summary.outcomes, { conf: 'changed', 'then-fails': 'failed' });
    assert.deepEqual(failed.summary.rolledBack, ['then-fails', 'conf']);
    assert.deepEqual([readFileSync(path, 'utf8'), mode()], ['v2\n', 0o644]);
    // The rollback renamed the copy back: none is left beside the file.
    assert.equal(existsSync(`${path}.ferry-prev`), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('real files: a file that did not exist is removed by the rollback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-engine-'));
  try {
    const path = join(dir, 'new.env');
    const { summary } = await run(
      fileStep({ id: 'conf', host: 'here', path, content: 'X=1\n', mode: 0o600 }),
      failing('conf'),
    );
    assert.deepEqual(summary.rolledBack, ['then-fails', 'conf']);
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('real files: with parents, a missing directory is made (mode 755); without, the write fails and nothing is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-engine-'));
  try {
    const path = join(dir, 'etc', 'watch', 'w.json');
    const without = await run(fileStep({ id: 'w', host: 'here', path, content: '{}\n', mode: 0o644 }));
    assert.equal(without.summary.failed, 1);
    assert.equal(existsSync(join(dir, 'etc')), false);
    const made = await run(fileStep({ id: 'w', host: 'here', path, content: '{}\n', mode: 0o644, parents: true }));
    assert.deepEqual(counts(made.summary), { changed: 1, ok: 0, failed: 0, skipped: 0 });
    assert.equal(readFileSync(path, 'utf8'), '{}\n');
    assert.equal(statSync(join(dir, 'etc', 'watch')).mode & 0o777, 0o755);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
