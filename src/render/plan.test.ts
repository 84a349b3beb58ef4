import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Preview } from '../plans/preview.js';
import { progressLine, renderPlanTable, renderRunbook, renderSummary } from './plan.js';

const doc = {
  purpose: 'Write the release.',
  commands: ['test -f /srv/ferry/shop/releases/abc/.ferry-manifest'],
  verify: 'sha256sum -c',
  undo: 'rm -rf it',
};
const preview: Preview = {
  fingerprint: 'sha256:f00',
  steps: [
    { id: 'shop/engine', host: 'app', phase: 'prepare', title: 'Docker and Compose present', status: 'ok', doc },
    {
      id: 'shop/release',
      host: 'app',
      phase: 'transfer',
      title: 'release abc',
      status: 'change',
      change: { summary: 'new release abc: ~ .env (secret)' },
      doc,
    },
    {
      id: 'shop/up',
      host: 'app',
      phase: 'deploy',
      title: 'start release abc',
      status: 'change',
      change: { summary: 'current old -> abc; up', before: 'old', after: 'abc' },
      doc,
    },
    {
      id: 'shop/images',
      host: 'app',
      phase: 'transfer',
      title: 'images',
      status: 'error',
      error: { code: 'image-missing-locally', message: 'images not found on this machine: app:2', hint: 'Build it.' },
      doc,
    },
  ],
};

test('the plan table: one row per step with its status and change, counts, and hints of failed checks', () => {
  assert.equal(
    renderPlanTable(preview),
    [
      '#  phase     server  step          status  what',
      '-  --------  ------  ------------  ------  --------------------------------------------------------------',
      '1  prepare   app     shop/engine   ok      no change',
      '2  transfer  app     shop/release  change  new release abc: ~ .env (secret)',
      '3  deploy    app     shop/up       change  current old -> abc; up',
      '4  transfer  app     shop/images   ERROR   image-missing-locally: images not found on this machine: app:2',
      '',
      '2 to change, 1 unchanged, 1 failed to check',
      '  hint (shop/images): Build it.',
      '',
    ].join('\n'),
  );
});

test('the runbook: every step with purpose, commands, verification, undo and its predicted change', () => {
  const md = renderRunbook(preview, {
    fleetFile: 'ferry.yml',
    createdAt: '2026-01-01T00:00:00.000Z',
    stacks: ['shop'],
    releases: { shop: 'abc' },
  });
  assert.match(md, /^# Ferry plan: shop\n/);
  assert.match(md, /- Facts fingerprint: `sha256:f00`/);
  assert.match(
    md,
    /## 3\. start release abc\n\n`shop\/up` on \*\*app\*\*, phase deploy: \*\*current old -> abc; up\*\*\n\nBefore: `old` → after: `abc`/,
  );
  assert.equal(md.match(/\*\*Purpose\.\*\* Write the release\./g)?.length, 4);
  assert.equal(md.match(/```sh\ntest -f \/srv\/ferry\/shop\/releases\/abc\/\.ferry-manifest\n```/g)?.length, 4);
  assert.match(md, /\*\*Check failed\.\*\* images not found on this machine: app:2\. Hint: Build it\./);
});

test('progress lines and the summary', () => {
  const titles = new Map([['shop/up', 'start release abc']]);
  assert.equal(
    progressLine(
      {
        at: 't',
        kind: 'step-end',
        stepId: 'shop/up',
        outcome: 'failed',
        durationMs: 1500,
        error: { code: 'health-check-failed', message: 'not ready', hint: 'look' },
      },
      titles,
    ),
    '✗ shop/up (start release abc): failed in 1.5 s\n    error health-check-failed: not ready\n    hint: look',
  );
  assert.equal(progressLine({ at: 't', kind: 'step-applied', stepId: 'shop/up' }, titles), undefined);
  assert.equal(
    renderSummary({ changed: 0, ok: 5, failed: 0, skipped: 0, outcomes: {}, rolledBack: [], rollbackFailed: [] }, 'r1'),
    '0 changed, 5 unchanged, 0 failed, 0 skipped (run r1)\nnothing changed: the servers already match\n',
  );
});
