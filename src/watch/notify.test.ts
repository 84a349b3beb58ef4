import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from '../core/secret.js';
import type { ReceiverDef } from '../model/monitoring.js';
import type { Transition } from './evaluate.js';
import { deliveries } from './notify.js';

const base = { severity: 'warning' as const, sendResolved: true };
const receivers: ReceiverDef[] = [
  { ...base, name: 'hook', type: 'webhook', url: { env: 'H' } },
  { ...base, name: 'chat', type: 'slack', url: { env: 'S' }, channel: '#ops' },
  { ...base, name: 'pager', type: 'discord', url: { env: 'D' }, severity: 'critical', sendResolved: false },
  { ...base, name: 'phone', type: 'telegram', token: { env: 'T' }, chatId: -100 },
  { ...base, name: 'mail', type: 'email', to: 'a@b', from: 'c@d', smarthost: 'smtp:587' },
];
const secrets = new Map(
  ['hook', 'chat', 'pager', 'phone', 'mail'].map((n) => [n, new Secret(`https://example.test/${n}-s3cret`)]),
);
const transition = (status: 'firing' | 'resolved', severity: 'warning' | 'critical'): Transition => ({
  status,
  alert: {
    key: 'ContainerDown|web1|shop|web',
    alert: 'ContainerDown',
    severity,
    server: 'web1',
    stack: 'shop',
    subject: 'web',
    summary: 'shop/web on web1: web is exited',
    firedAt: '2026-01-01T00:00:00.000Z',
    ...(status === 'resolved' ? { resolvedAt: '2026-01-01T00:01:00.000Z' } : {}),
  },
});

test('a critical alert goes to every receiver the watch can send to; email is left to Alertmanager', () => {
  const d = deliveries(receivers, secrets, transition('firing', 'critical'));
  assert.deepEqual(
    d.map((x) => x.receiver),
    ['hook', 'chat', 'pager', 'phone'],
  );
  assert.equal(d[3]!.url, 'https://api.telegram.org/bothttps://example.test/phone-s3cret/sendMessage');
  assert.deepEqual(d[1]!.body, {
    text: '[FIRING] critical ContainerDown: shop/web on web1: web is exited',
    channel: '#ops',
  });
  assert.deepEqual(d[3]!.body, {
    chat_id: -100,
    text: '[FIRING] critical ContainerDown: shop/web on web1: web is exited',
  });
});

test("a webhook gets Alertmanager's version 4 JSON, with the alert's labels", () => {
  const [hook] = deliveries(receivers, secrets, transition('resolved', 'critical'));
  const body = hook!.body as {
    version: string;
    status: string;
    alerts: { status: string; labels: object; endsAt: string }[];
  };
  assert.equal(body.version, '4');
  assert.equal(body.status, 'resolved');
  assert.deepEqual(body.alerts[0]!.labels, {
    alertname: 'ContainerDown',
    severity: 'critical',
    server: 'web1',
    stack: 'shop',
    subject: 'web',
    source: 'ferry-watch',
  });
  assert.equal(body.alerts[0]!.endsAt, '2026-01-01T00:01:00.000Z');
});

test('a receiver of critical alerts gets no warning, one without send_resolved no resolution', () => {
  assert.ok(!deliveries(receivers, secrets, transition('firing', 'warning')).some((d) => d.receiver === 'pager'));
  assert.ok(!deliveries(receivers, secrets, transition('resolved', 'critical')).some((d) => d.receiver === 'pager'));
});

test('the secret is in the URL only, never in the body', () => {
  for (const d of deliveries(receivers, secrets, transition('firing', 'critical')))
    assert.ok(!JSON.stringify(d.body).includes('s3cret'), d.receiver);
});
