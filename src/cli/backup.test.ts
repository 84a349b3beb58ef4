import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRunId, renderDrill, runsOf } from './backup.js';

const snap = (time: string, ...tags: string[]) => ({ id: time, time, tags: ['ferry', 'stack=shop', ...tags] });

test('snapshots grouped by run, newest first; a run without its manifest is incomplete', () => {
  const rows = runsOf('here', [
    snap('2026-12-01T02:00:01Z', 'run=A', 'kind=postgres', 'source=db'),
    snap('2026-12-01T02:00:03Z', 'run=A', 'kind=volume', 'source=uploads'),
    snap('2026-12-01T02:00:04Z', 'run=A', 'kind=manifest'),
    snap('2026-12-02T02:00:01Z', 'run=B', 'kind=postgres', 'source=db'),
    snap('2026-12-02T02:00:02Z'),
  ]);
  assert.deepEqual(rows, [
    { repository: 'here', run: 'B', time: '2026-12-02T02:00:01Z', kinds: ['postgres db'], complete: false },
    {
      repository: 'here',
      run: 'A',
      time: '2026-12-01T02:00:01Z',
      kinds: ['postgres db', 'volume uploads'],
      complete: true,
    },
  ]);
});

test('run ids sort by time', () => {
  assert.match(newRunId(new Date('2026-12-03T00:15:00.123Z')), /^20261203T001500Z-[0-9a-f]{6}$/);
});

test('a drill report says what was proven, how long it took and how old the data was', () => {
  const text = renderDrill({
    stack: 'shop',
    repository: 'here',
    run: 'A',
    backed_up_at: '2026-12-01T02:00:00Z',
    data_age_ms: 90 * 60_000,
    duration_ms: 12_345,
    proofs: [
      { what: 'postgres db public.items', expected: '1000 rows, checksum x', found: '1000 rows, checksum x', ok: true },
      { what: 'redis cache', expected: '50 keys', found: '49 keys', ok: false },
    ],
    ok: false,
    left: [],
  });
  assert.equal(
    text,
    'ok   postgres db public.items: 1000 rows, checksum x\n' +
      'FAIL redis cache: expected 50 keys, found 49 keys\n' +
      'drill of shop from here, run A: FAILED; took 12.3 s; the data was 90 min old\n',
  );
});
