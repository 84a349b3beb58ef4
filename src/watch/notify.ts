/**
 * Alerts of the watch sent to the fleet's receivers (`monitoring.receivers`), from the
 * machine running Ferry: a webhook gets Alertmanager's own JSON (version 4), so that
 * what reads Alertmanager's reads the watch's; Slack, Discord and Telegram get a line of
 * text. Email is Alertmanager's alone. The payloads are pure; `deliver` posts them.
 */
import type { ReceiverDef } from '../model/monitoring.js';
import type { Secret } from '../core/secret.js';
import type { Transition } from './evaluate.js';

export interface Delivery {
  receiver: string;
  /** The URL, with its secret: never printed (the redactor knows it). */
  url: string;
  body: unknown;
}

/** Receivers the watch can send to. */
export const watchCanSend = (r: ReceiverDef): boolean => r.type !== 'email';

const wanted = (r: ReceiverDef, t: Transition): boolean =>
  (r.severity === 'warning' || t.alert.severity === 'critical') && (t.status === 'firing' || r.sendResolved);

export function line(t: Transition): string {
  const a = t.alert;
  return `[${t.status === 'firing' ? 'FIRING' : 'RESOLVED'}] ${a.severity} ${a.alert}: ${a.summary}`;
}

function alertmanagerBody(receiver: string, t: Transition): unknown {
  const a = t.alert;
  const labels = {
    alertname: a.alert,
    severity: a.severity,
    server: a.server,
    ...(a.stack ? { stack: a.stack } : {}),
    subject: a.subject,
    source: 'ferry-watch',
  };
  return {
    version: '4',
    status: t.status,
    receiver,
    groupKey: a.key,
    groupLabels: { alertname: a.alert },
    commonLabels: labels,
    commonAnnotations: { summary: a.summary },
    externalURL: '',
    alerts: [
      {
        status: t.status,
        labels,
        annotations: { summary: a.summary },
        startsAt: a.firedAt,
        endsAt: a.resolvedAt ?? '0001-01-01T00:00:00Z',
        fingerprint: a.key,
      },
    ],
  };
}

/** What to post for one transition, to each receiver that wants it; `secrets` by receiver name. */
export function deliveries(
  receivers: readonly ReceiverDef[],
  secrets: ReadonlyMap<string, Secret>,
  t: Transition,
): Delivery[] {
  const out: Delivery[] = [];
  for (const r of receivers) {
    const secret = secrets.get(r.name)?.reveal();
    if (!watchCanSend(r) || !wanted(r, t) || !secret) continue;
    const text = line(t);
    if (r.type === 'webhook') out.push({ receiver: r.name, url: secret, body: alertmanagerBody(r.name, t) });
    else if (r.type === 'slack')
      out.push({ receiver: r.name, url: secret, body: { text, ...(r.channel ? { channel: r.channel } : {}) } });
    else if (r.type === 'discord') out.push({ receiver: r.name, url: secret, body: { content: text } });
    else if (r.type === 'telegram')
      out.push({
        receiver: r.name,
        url: `https://api.telegram.org/bot${secret}/sendMessage`,
        body: { chat_id: r.chatId, text },
      });
  }
  return out;
}

/** Posts one delivery; resolves to undefined when the receiver took it (2xx), else why not. */
export async function deliver(d: Delivery, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(d.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? undefined : `answered ${res.status}`;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (e as Error).message;
  }
}
