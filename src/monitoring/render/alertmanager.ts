/**
 * alertmanager.yml. Receiver URLs, tokens and passwords are never in it: each receiver
 * reads its secret from a file of its own (`url_file`, `api_url_file`, `webhook_url_file`,
 * `bot_token_file`, `auth_password_file`; Alertmanager 0.26 or later, the email and Slack
 * ones since earlier), a Compose secret of the monitoring stack (see compose.ts).
 */
import type { MonitoringDef, ReceiverDef } from '../../model/monitoring.js';
import { WATCHDOG } from '../rules-heartbeat.js';
import { renderYaml } from './yaml.js';

/** The receiver of alerts no receiver takes (none are configured, or all want critical only). */
const NOWHERE = 'ferry-nowhere';
/** The receiver of `monitoring.heartbeat`: a webhook that gets the Watchdog alert alone. */
export const HEARTBEAT = 'ferry-heartbeat';

/** Every receiver Alertmanager sends to: the fleet's, and the heartbeat's when there is one. */
export function alertmanagerReceivers(def: MonitoringDef): ReceiverDef[] {
  return [
    ...def.receivers,
    ...(def.heartbeat
      ? [
          {
            name: HEARTBEAT,
            type: 'webhook',
            url: def.heartbeat.url,
            severity: 'critical',
            sendResolved: false,
          } as const,
        ]
      : []),
  ];
}

/** The Compose secret holding a receiver's URL, token or password. */
export const secretName = (receiver: string): string => `receiver-${receiver}`;
/** Where Alertmanager reads it: Compose mounts a file secret at /run/secrets/NAME (v1 and v2 alike). */
export const secretPath = (receiver: string): string => `/run/secrets/${secretName(receiver)}`;

export function renderAlertmanager(def: MonitoringDef): string {
  return renderYaml({
    route: {
      receiver: NOWHERE,
      group_by: ['alertname', 'server', 'stack'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        // Watchdog goes to the heartbeat alone, again every interval; without one, nowhere.
        {
          receiver: def.heartbeat ? HEARTBEAT : NOWHERE,
          matchers: [`alertname="${WATCHDOG}"`],
          ...(def.heartbeat
            ? { group_wait: '0s', group_interval: def.heartbeat.every, repeat_interval: def.heartbeat.every }
            : {}),
        },
        ...def.receivers.map((r) => ({
          receiver: r.name,
          matchers: [r.severity === 'critical' ? 'severity="critical"' : 'severity=~"warning|critical"'],
          continue: true,
        })),
      ],
    },
    // A server that is down says all there is: its other alerts wait until it is back.
    inhibit_rules: [
      {
        source_matchers: ['alertname=~"HostDown|HostUnreachable"'],
        target_matchers: [`alertname!~"HostDown|HostUnreachable|${WATCHDOG}"`],
        equal: ['server'],
      },
    ],
    receivers: [{ name: NOWHERE }, ...alertmanagerReceivers(def).map(receiverEntry)],
  });
}

function receiverEntry(r: ReceiverDef): Record<string, unknown> {
  const file = secretPath(r.name);
  const resolved = { send_resolved: r.sendResolved };
  switch (r.type) {
    case 'webhook':
      return { name: r.name, webhook_configs: [{ url_file: file, ...resolved }] };
    case 'slack':
      return {
        name: r.name,
        slack_configs: [
          { api_url_file: file, ...(r.channel !== undefined ? { channel: r.channel } : {}), ...resolved },
        ],
      };
    case 'discord':
      return { name: r.name, discord_configs: [{ webhook_url_file: file, ...resolved }] };
    case 'telegram':
      return { name: r.name, telegram_configs: [{ bot_token_file: file, chat_id: r.chatId, ...resolved }] };
    case 'email':
      return {
        name: r.name,
        email_configs: [
          {
            to: r.to,
            from: r.from,
            smarthost: r.smarthost,
            ...(r.username !== undefined ? { auth_username: r.username } : {}),
            ...(r.password !== undefined ? { auth_password_file: file } : {}),
            ...resolved,
          },
        ],
      };
  }
}
