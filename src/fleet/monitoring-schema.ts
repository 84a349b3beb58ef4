/**
 * `monitoring` in ferry.yml: the server that runs Prometheus, Alertmanager and Grafana, the
 * receivers alerts go to, thresholds over the default rules' and the image of every
 * component. Receiver URLs, tokens and passwords are secrets: ferry.yml names where to read
 * them (an environment variable or a file), never the value. See docs/monitoring.md.
 */
import { z } from 'zod';
import { secretRefSchema } from './secret-ref-schema.js';
import { parseDuration } from '../compose/normalize/duration.js';

const MAPPING = 'must be a mapping (indented `key: value` lines)';
const DURATION = 'must be a duration such as 30s, 5m or 1h';
const SECRET =
  'must be { env: NAME } or { file: PATH }: receiver URLs, tokens and passwords are secrets, read from an environment variable or a file, never written in ferry.yml';

/** A receiver's secret: where it is read from when the monitoring stack is deployed. */
const SecretRefSchema = secretRefSchema(SECRET).meta({
  examples: [{ env: 'SLACK_WEBHOOK_URL' }, { file: 'secrets/telegram-token' }],
});

const severity = z
  .enum(['warning', 'critical'], { error: 'must be warning or critical' })
  .optional()
  .describe('The least severe alerts this receiver gets: `warning` (all) or `critical`. Default: warning.');
const sendResolved = z
  .boolean({ error: 'must be true or false' })
  .optional()
  .describe('Also send a message when the alert is over. Default: true.');
const common = { severity, send_resolved: sendResolved };

const Webhook = z.strictObject(
  { type: z.literal('webhook'), url: SecretRefSchema.describe('The URL alerts are POSTed to (JSON).'), ...common },
  { error: MAPPING },
);
const Slack = z.strictObject(
  {
    type: z.literal('slack'),
    url: SecretRefSchema.describe('The Slack incoming webhook URL.'),
    channel: z
      .string({ error: 'must be a channel such as #alerts' })
      .regex(/^[#@]?[A-Za-z0-9._-]+$/, { error: 'must be a channel such as #alerts' })
      .optional()
      .describe("Channel to post to. Default: the webhook's own."),
    ...common,
  },
  { error: MAPPING },
);
const Discord = z.strictObject(
  { type: z.literal('discord'), url: SecretRefSchema.describe('The Discord webhook URL.'), ...common },
  { error: MAPPING },
);
const Telegram = z.strictObject(
  {
    type: z.literal('telegram'),
    token: SecretRefSchema.describe("The bot's token."),
    chat_id: z
      .number({ error: 'must be a chat id (a whole number, negative for groups)' })
      .int()
      .describe('The chat the bot writes to.'),
    ...common,
  },
  { error: MAPPING },
);
const Email = z.strictObject(
  {
    type: z.literal('email'),
    to: z
      .string({ error: 'must be an email address' })
      .regex(/^[^\s@]+@[^\s@]+$/, { error: 'must be an email address' })
      .describe('Address alerts are sent to.'),
    from: z
      .string({ error: 'must be an email address' })
      .regex(/^[^\s@]+@[^\s@]+$/, { error: 'must be an email address' })
      .describe('Sender address.'),
    smarthost: z
      .string({ error: 'must be HOST:PORT' })
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'must be HOST:PORT such as smtp.example.com:587' })
      .describe('SMTP server.'),
    username: z.string({ error: 'must be a user name' }).min(1).optional().describe('SMTP user. Default: none.'),
    password: SecretRefSchema.optional().describe('SMTP password (with `username`).'),
    ...common,
  },
  { error: MAPPING },
);

export const ReceiverSchema = z
  .discriminatedUnion('type', [Webhook, Slack, Discord, Telegram, Email], {
    error: 'must have a type: webhook, slack, discord, telegram or email',
  })
  .describe('Where alerts go: a generic webhook, Slack, Discord, Telegram or email.');

const percent = (what: string) =>
  z.number({ error: 'must be a percentage from 1 to 100' }).min(1).max(100).optional().describe(what);
const duration = (what: string) =>
  z
    .string({ error: DURATION })
    .regex(/^(\d+(ms|s|m|h|d))+$/, { error: DURATION })
    .optional()
    .describe(what);
const positive = (what: string) =>
  z.number({ error: 'must be a number greater than 0' }).positive().optional().describe(what);

export const ThresholdsSchema = z
  .strictObject(
    {
      cpu_percent: percent('CPU busy over this, for `cpu_for`, fires HostHighCpu. Default: 90.'),
      cpu_for: duration('How long CPU must stay over `cpu_percent`. Default: 5m.'),
      memory_percent: percent('Memory in use over this fires HostHighMemory. Default: 90.'),
      disk_percent: percent('A filesystem fuller than this fires HostDiskFull. Default: 90.'),
      disk_fill_hours: positive(
        'A filesystem predicted full within this many hours fires HostDiskFilling. Default: 24.',
      ),
      postgres_connections_percent: percent(
        "Connections over this share of the server's own max_connections fire PostgresTooManyConnections. Default: 80.",
      ),
      replication_slot_inactive_for: duration(
        'How long a replication slot may be inactive (a migration leftover keeps WAL forever) before PostgresReplicationSlotInactive. Default: 30m.',
      ),
      redis_memory_percent: percent(
        'Redis memory over this share of its maxmemory fires RedisHighMemory. Default: 90.',
      ),
      redis_unsaved_hours: positive(
        'Redis without AOF holding writes not saved to its RDB for this many hours fires RedisNotPersisting. Default: 6.',
      ),
      container_restarts: z
        .number({ error: 'must be a whole number of 1 or more' })
        .int()
        .min(1)
        .optional()
        .describe('Restarts of one container within 15 minutes that fire ContainerRestarting. Default: 3.'),
      probe_seconds: positive(
        'A site answering slower than this (blackbox probe, 5 minute average) fires SiteSlow. Default: 2.',
      ),
      certificate_days: positive(
        'A certificate expiring within this many days fires CertificateExpiring. Default: 14.',
      ),
      backup_max_age_hours: positive(
        "A stack's last good backup (`ferry backup run`) older than this many hours, in any of its repositories, fires BackupTooOld: the data-loss window should the server die now. Default: 26 (a daily backup, with two hours to spare).",
      ),
    },
    { error: MAPPING },
  )
  .describe('Thresholds of the default alert rules; every key is optional.');

const image = z
  .strictObject(
    {
      name: z
        .string({ error: 'must be an image name such as prom/prometheus' })
        .regex(/^[a-z0-9][a-z0-9._/:-]*$/, { error: 'must be an image name such as prom/prometheus' })
        .optional()
        .describe('Image name (a mirror or your own build). Default: the upstream image.'),
      version: z
        .string({ error: 'must be an image tag such as v2.53.3' })
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: 'must be an image tag such as v2.53.3' })
        .optional()
        .describe('Image tag. Default: the version Ferry is tested with.'),
    },
    { error: MAPPING },
  )
  .optional();

export const MONITORING_COMPONENTS = [
  'prometheus',
  'alertmanager',
  'grafana',
  'node_exporter',
  'cadvisor',
  'blackbox_exporter',
  'postgres_exporter',
  'redis_exporter',
  'mysql_exporter',
  'nginx_exporter',
] as const;
export type MonitoringComponent = (typeof MONITORING_COMPONENTS)[number];

export const MonitoringImagesSchema = z
  .strictObject(
    Object.fromEntries(MONITORING_COMPONENTS.map((c) => [c, image.describe(`The ${c} image.`)])) as Record<
      MonitoringComponent,
      typeof image
    >,
    { error: MAPPING },
  )
  .describe('Image name and version of each component, to pin them or pull them from a mirror.');

export const MonitoringSchema = z
  .strictObject(
    {
      server: z
        .string({ error: 'must be the name of a server of the fleet' })
        .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be the name of a server of the fleet' })
        .describe('The server (under `servers`) that runs Prometheus, Alertmanager, Grafana and the blackbox prober.'),
      receivers: z
        .record(
          z.string().regex(/^(?!ferry-)[a-z0-9][a-z0-9_-]*$/, {
            error:
              'must be a receiver name: lower-case letters, digits, "_" and "-", not beginning with "ferry-" (names of Ferry\'s own)',
          }),
          ReceiverSchema,
          { error: 'must be a mapping of receiver names to receivers' },
        )
        .optional()
        .describe('Where alerts are sent, by name. Default: none (alerts are only shown in Alertmanager).'),
      thresholds: ThresholdsSchema.optional(),
      scrape_interval: duration('How often Prometheus scrapes every target. Default: 30s.'),
      retention: duration('How long Prometheus keeps samples. Default: 15d.'),
      images: MonitoringImagesSchema.optional(),
      deploy: z
        .strictObject(
          {
            images: z
              .enum(['push', 'pull'], { error: 'must be push or pull' })
              .optional()
              .describe(
                "How the monitoring images reach the servers, as a stack's `deploy.images`: `pull` (the servers pull them from their registry) or `push` (streamed from this machine over SSH, for servers without a registry). Default: pull.",
              ),
          },
          { error: MAPPING },
        )
        .optional()
        .describe('How `ferry apply` deploys the monitoring stack and the exporters.'),
      grafana: z
        .union(
          [
            z.literal(false),
            z.strictObject(
              {
                admin_password: SecretRefSchema.describe(
                  "Grafana's admin password, written to the monitoring server mode 600 and read by Grafana from that file.",
                ),
              },
              { error: MAPPING },
            ),
          ],
          { error: 'must be false or { admin_password: { env: NAME } }' },
        )
        .optional()
        .describe(
          'Grafana: `false` leaves it out; otherwise where its admin password is read from (needed to deploy it). Default: deployed, password required.',
        ),
      cadvisor: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Run cAdvisor on every server (the container alerts need it). Default: true.'),
      heartbeat: z
        .strictObject(
          {
            url: SecretRefSchema.describe(
              "The URL of a dead man's switch (a healthchecks.io check, an Uptime Kuma push monitor, any URL that takes a POST).",
            ),
            every: duration(
              "How often the heartbeat is posted, 10s or more; set the switch's period to it and its grace to at least as much again. Default: 1m.",
            ).refine(
              (d) => {
                // One that is not a duration is the regular expression's to say.
                const ms = d === undefined ? undefined : parseDuration(d);
                return ms === undefined || ms >= 10_000;
              },
              {
                error: 'must be 10s or more: Alertmanager sends a group again at most that often',
              },
            ),
          },
          { error: MAPPING },
        )
        .optional()
        .describe(
          'Who watches the watcher: the Watchdog alert, always firing while Prometheus runs and evaluates its rules, is posted to this URL by Alertmanager every `every`. When the monitoring server, Prometheus or Alertmanager stops, the posts stop, and the service at the URL says so. Default: none (Watchdog is kept in Alertmanager only).',
        ),
    },
    { error: MAPPING },
  )
  .describe(
    'Monitoring of the fleet: Prometheus, Alertmanager and Grafana on one server, exporters on every server, alert rules generated from the stacks.',
  );

export type MonitoringEntry = z.output<typeof MonitoringSchema>;

/** Keys whose value is a receiver's secret: a value written there is never echoed back in an error. */
export function isReceiverSecretPath(path: readonly (string | number)[]): boolean {
  return (
    (path.length >= 4 &&
      path[0] === 'monitoring' &&
      path[1] === 'receivers' &&
      ['url', 'token', 'password'].includes(String(path[3]))) ||
    (path.length >= 3 && path[0] === 'monitoring' && path[1] === 'heartbeat' && path[2] === 'url')
  );
}

/** Strings written at those keys (where ferry.yml should name an env variable or file), for the redactor. */
export function receiverSecretsWritten(doc: Record<string, unknown>): string[] {
  const m = doc['monitoring'];
  const of = (key: string): unknown =>
    m !== null && typeof m === 'object' ? (m as Record<string, unknown>)[key] : undefined;
  const receivers = of('receivers');
  const heartbeat = of('heartbeat');
  const holders = [
    ...(receivers !== null && typeof receivers === 'object' ? Object.values(receivers as Record<string, unknown>) : []),
    heartbeat,
  ];
  return holders.flatMap((r) =>
    r !== null && typeof r === 'object'
      ? ['url', 'token', 'password'].flatMap((k) => {
          const v = (r as Record<string, unknown>)[k];
          return typeof v === 'string' && v !== '' ? [v] : [];
        })
      : [],
  );
}
