import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWatchStatus } from './status.js';

const alert = (at: string) => ({
  key: 'ContainerDown|web1|shop|web',
  alert: 'ContainerDown',
  severity: 'critical',
  server: 'web1',
  stack: 'shop',
  subject: 'web',
  summary: 'shop/web on web1: no container',
  firedAt: at,
});

const ev = (o: object) => JSON.stringify(o);

test('the events of the last start: alerts with when they were over, refused deliveries, failed samples, the end', () => {
  const out = [
    '@@config',
    '{"started":"2026-12-01T10:00:00.000Z","until":"2026-12-01T11:00:00.000Z","every_s":60,"stacks":[{"stack":"shop"}]}',
    '@@state',
    '{"samples":12,"last_epoch":1796119200,"peaks":{"cpuPercent":40.5,"memoryPercent":20,"diskPercent":61},"firing":{}}',
    '@@events',
    ev({ event: 'started', at: '2026-11-01T00:00:00.000Z', started: 'old' }),
    ev({ event: 'firing', at: '2026-11-01T00:01:00.000Z', ...alert('2026-11-01T00:01:00.000Z') }),
    ev({ event: 'started', at: '2026-12-01T10:00:01.000Z', started: '2026-12-01T10:00:00.000Z' }),
    ev({ event: 'firing', at: '2026-12-01T10:05:00.000Z', ...alert('2026-12-01T10:05:00.000Z') }),
    ev({
      event: 'delivery-failed',
      at: '2026-12-01T10:05:01.000Z',
      receiver: 'bad',
      alert: 'ContainerDown',
      error: 'answered 404',
    }),
    'not json',
    ev({ event: 'sample-failed', at: '2026-12-01T10:06:00.000Z' }),
    ev({
      event: 'resolved',
      at: '2026-12-01T10:07:00.000Z',
      ...alert('2026-12-01T10:05:00.000Z'),
      resolvedAt: '2026-12-01T10:07:00.000Z',
    }),
    ev({ event: 'ended', at: '2026-12-01T11:00:00.000Z', still_firing: [] }),
    '@@timer',
    'inactive',
    '@@result',
    'success',
  ].join('\n');
  const w = parseWatchStatus('web1', out);
  assert.equal(w.installed, true);
  assert.equal(w.running, false);
  assert.equal(w.ended, '2026-12-01T11:00:00.000Z');
  assert.deepEqual(w.stacks, ['shop']);
  assert.equal(w.samples, 12);
  assert.equal(w.lastSample, new Date(1796119200 * 1000).toISOString());
  assert.deepEqual(w.alerts, [{ ...alert('2026-12-01T10:05:00.000Z'), resolvedAt: '2026-12-01T10:07:00.000Z' }]);
  assert.deepEqual(w.failedDeliveries, [
    { at: '2026-12-01T10:05:01.000Z', receiver: 'bad', alert: 'ContainerDown', error: 'answered 404' },
  ]);
  assert.deepEqual(w.failedSamples, ['2026-12-01T10:06:00.000Z']);
  assert.equal(w.lastResult, 'success');
});

test('a server without the watch: not installed, nothing seen', () => {
  const w = parseWatchStatus('web2', '@@config\n@@state\n@@events\n@@timer\ninactive\n@@result\n');
  assert.equal(w.installed, false);
  assert.equal(w.started, undefined);
  assert.deepEqual([w.samples, w.alerts.length], [0, 0]);
});
