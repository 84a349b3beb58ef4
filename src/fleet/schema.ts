/**
 * The fleet file `ferry.yml`: its one and only definition. The loader validates with
 * it, `schema/ferry.schema.json` (for editors) is generated from it, and
 * docs/fleet-file.md describes it.
 *
 * Every schema carries its own error text, written to follow a key path:
 * `servers/app/port` + ` must be a whole number from 1 to 65535` + `, got "22a"`.
 */
import { z } from 'zod';
import { SIZE_PATTERN } from '../core/size.js';
import { HardenSchema, ServerHardenSchema } from './harden-schema.js';
import { MonitoringSchema } from './monitoring-schema.js';
import { BackupsSchema } from './backup-schema.js';

/** Server, stack and Compose project names (Compose's project name rule). */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
/** Compose service names. */
export const SERVICE_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$';
const NAME = NAME_PATTERN.slice(1, -1);
const SERVICE = SERVICE_PATTERN.slice(1, -1);
/** `connections[].to`: `server:NAME`, `STACK/SERVICE` or `SERVICE`. */
export const TARGET_PATTERN = `^(?:server:${NAME}|(?:${NAME}/)?${SERVICE})$`;

/** Top-level keys that start with `x-` are ignored, as in Compose: a place for YAML anchors. */
export function isExtensionKey(key: string): boolean {
  return key.startsWith('x-');
}

export const NAME_RULE = 'lower-case letters, digits, "_" and "-", starting with a letter or digit';
const MAPPING = 'must be a mapping (indented `key: value` lines)';
const SIZE_ERROR = 'must be a size: a whole number of bytes, or a number with a unit such as 512MiB, 16GiB or 1.5TB';

function name(what: string) {
  return z.string({ error: `must be a ${what} name: ${NAME_RULE}` }).regex(new RegExp(NAME_PATTERN));
}

function wholeNumber(min: number, max?: number) {
  const text =
    max === undefined ? `must be a whole number of ${min} or more` : `must be a whole number from ${min} to ${max}`;
  const n = z.number({ error: text }).int().min(min);
  return max === undefined ? n : n.max(max);
}

const size = (what: string) =>
  z
    .union(
      [z.number({ error: SIZE_ERROR }).int().min(0), z.string({ error: SIZE_ERROR }).regex(new RegExp(SIZE_PATTERN))],
      { error: SIZE_ERROR },
    )
    .meta({
      description: `${what}: bytes, or a number with a unit: K, M, G, T or P, optionally followed by B or iB (512M, 512MiB, 16GiB, 2g, 1.5GB). Every unit is a power of 1024, as Docker reads memory limits.`,
      examples: ['16GiB', '512MiB'],
    });

export const PostgresSchema = z
  .strictObject(
    {
      version: wholeNumber(9, 99)
        .optional()
        .describe("The cluster's major version (`pg_lsclusters`). Default: the server's only cluster."),
      cluster: z
        .string({ error: 'must be a cluster name' })
        .regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a cluster name such as main' })
        .optional()
        .describe("The cluster's name (`pg_lsclusters`). Default: `main`."),
      port: wholeNumber(1, 65535).optional().describe('The port it listens on. Default: 5432.'),
      superuser: z
        .string({ error: 'must be a system user name' })
        .regex(/^[a-z_][a-z0-9_-]*$/, { error: 'must be a system user name such as postgres' })
        .optional()
        .describe(
          'The system user that is its superuser by peer authentication: Ferry runs `psql` as this user (`runuser -u USER`), with no password. Default: `postgres`.',
        ),
      max_connections: wholeNumber(1).describe(
        "The server's Postgres `max_connections` setting; the connection-budget check adds up the pools of `connections` against it.",
      ),
      tune: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe(
          "Set shared_buffers, effective_cache_size, maintenance_work_mem and work_mem from the server's memory (`memory`, else what the server has), and max_connections to `max_connections` (ALTER SYSTEM; a restart when one of them needs it). Default: false.",
        ),
    },
    { error: MAPPING },
  )
  .describe(
    'A Postgres installed on the host itself (outside Docker). Stacks on the same server reach it with `connections: [{ to: server:NAME }]` (at `host.docker.internal`, mapped to `host-gateway`): Ferry adds the `pg_hba.conf` entries for their Docker networks.',
  );

export const ServerSchema = z
  .strictObject(
    {
      host: z
        .string({ error: 'must be a host name or IP address' })
        .regex(/^[^\s]+$/)
        .describe('Host name or IP address to reach the server at over SSH (an alias from ~/.ssh/config works too).')
        .meta({ examples: ['203.0.113.20'] }),
      user: z
        .string({ error: 'must be a user name' })
        .regex(/^[^\s]+$/)
        .optional()
        .describe('SSH user. Default: the User of this host in ~/.ssh/config, else root.'),
      port: wholeNumber(1, 65535)
        .optional()
        .describe('SSH port. Default: the Port of this host in ~/.ssh/config, else 22.'),
      sudo: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe(
          'Run commands that need root through `sudo -n` (for a non-root user with passwordless sudo). Default: false.',
        ),
      identity_file: z
        .string({ error: 'must be a path to a private key' })
        .optional()
        .describe(
          'Private key to log in with, relative to ferry.yml or absolute (`~` is your home). Default: ~/.ssh/config, ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa.',
        ),
      memory: size('Memory (RAM) of the server').optional(),
      cpus: z
        .number({ error: 'must be a number of CPUs greater than 0' })
        .positive()
        .optional()
        .describe('Number of CPUs (cores or vCPUs) of the server.'),
      disk: size('Disk space of the server').optional(),
      cost: z
        .number({ error: 'must be a number of 0 or more' })
        .min(0)
        .optional()
        .describe('Monthly cost of the server, in the currency of your choice (the same for every server).'),
      postgres: PostgresSchema.optional(),
      private_address: z
        .string({ error: 'must be an IPv4 address' })
        .regex(/^\d{1,3}(\.\d{1,3}){3}$/, { error: 'must be an IPv4 address' })
        .optional()
        .describe(
          "The address other servers of the fleet reach this one by (a private network): a service placed here publishes its port on it only, and its firewall allows the stack's server by its own. Default: `host`, when that is an IPv4 address.",
        )
        .meta({ examples: ['10.0.0.5'] }),
      harden: ServerHardenSchema.optional(),
    },
    { error: MAPPING },
  )
  .describe('A server (VPS) that stacks run on, reached over SSH.');

/** A database or role name as `pg_hba.conf` takes it unquoted. */
const pgName = z
  .string({ error: 'must be a Postgres name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, { error: 'must be a Postgres name: letters, digits and _, at most 63' });

export const ConnectionSchema = z
  .strictObject(
    {
      service: z
        .string({ error: 'must be a Compose service name' })
        .regex(new RegExp(SERVICE_PATTERN))
        .describe('Service of this stack that opens the pool.'),
      pool: wholeNumber(1).describe('Connections in the pool of each process.'),
      replicas: wholeNumber(0)
        .optional()
        .describe("Replicas of the service. Default: the service's own replica count in the compose files."),
      processes: wholeNumber(1)
        .optional()
        .describe('Processes (workers) per replica that each open their own pool. Default: 1.'),
      to: z
        .string({ error: 'must be STACK/SERVICE, SERVICE (a service of this stack) or server:NAME' })
        .regex(new RegExp(TARGET_PATTERN))
        .describe(
          'The Postgres the pool connects to: STACK/SERVICE for a Postgres service of another stack, SERVICE for one in this stack, or server:NAME for a Postgres installed on a server.',
        )
        .meta({ examples: ['db/postgres', 'postgres', 'server:db'] }),
      database: pgName
        .optional()
        .describe(
          'For `server:NAME`: the database the pool opens, the only one its `pg_hba.conf` entry lets in. Default: all.',
        ),
      user: pgName
        .optional()
        .describe(
          'For `server:NAME`: the role the pool logs in as, the only one its `pg_hba.conf` entry lets in. Default: all.',
        ),
    },
    { error: MAPPING },
  )
  .describe('A pool of Postgres connections opened by a service, for the connection-budget check.');

const filePath = z.string({ error: 'must be a file path' }).min(1);
const serviceName = z.string({ error: 'must be a Compose service name' }).regex(new RegExp(SERVICE_PATTERN));
const duration = (what: string) =>
  z
    .string({ error: 'must be a duration such as 30s, 2m or 1h30m' })
    .regex(/^(\d+(\.\d+)?(ms|s|m|h|d))+$/, { error: 'must be a duration such as 30s, 2m or 1h30m' })
    .describe(what);

export const HttpCheckSchema = z
  .strictObject(
    {
      service: serviceName.describe('Service whose containers are checked.'),
      port: wholeNumber(1, 65535).describe('Port the service listens on inside its container.'),
      path: z
        .string({ error: 'must be a URL path starting with /' })
        .regex(/^\//)
        .optional()
        .describe('Path to request. Default: /.'),
    },
    { error: MAPPING },
  )
  .describe(
    'An HTTP check: after `up`, each container of the service must answer 2xx or 3xx at http://CONTAINER_ADDRESS:PORT/PATH from the server.',
  );

export const DeploySchema = z
  .strictObject(
    {
      images: z
        .enum(['push', 'pull'], {
          error:
            'must be push (stream the images from this machine over SSH) or pull (the server pulls them from its registry)',
        })
        .optional()
        .describe(
          'How images reach the server: `push` streams them from this machine over SSH with `docker save | zstd` (no registry needed; only images the server lacks are sent); `pull` has the server pull them. Default: push.',
        ),
      build: z
        .enum(['server', 'local'], {
          error: 'must be server (build on the server from the context Ferry sends) or local (you build here)',
        })
        .optional()
        .describe(
          "Where services with `build:` are built: `server` sends their context (what .dockerignore leaves) and builds the image there, once per distinct build, its cache kept between releases; `local` builds nothing: build the `image:` here yourself, and it reaches the server as `images` says. Default: server (the server's architecture, no image to stream).",
        ),
      health_timeout: duration(
        'How long containers may take to become healthy (and HTTP checks to pass) before the release is rolled back. Default: 2m.',
      ).optional(),
      keep_releases: wholeNumber(2, 100)
        .optional()
        .describe(
          'Releases kept on the server, the current one included, so that `ferry rollback` can return to an earlier one. Default: 5.',
        ),
      http_checks: z
        .array(HttpCheckSchema, { error: 'must be a list of HTTP checks' })
        .optional()
        .describe(
          'HTTP checks that must pass after `up`, besides container health checks; a failure rolls the release back.',
        ),
    },
    { error: MAPPING },
  )
  .describe('How Ferry deploys the stack.');

/** Response headers nginx adds: a name, and its value (a Content-Security-Policy, a Permissions-Policy...). */
export const HEADER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9-]*$';
const headers = (where: string) =>
  z
    .record(
      z
        .string()
        .regex(new RegExp(HEADER_NAME_PATTERN), { error: 'must be a header name such as Content-Security-Policy' }),
      z
        .string({ error: 'must be a header value' })
        .min(1, { error: 'must not be empty' })
        .regex(/^[^"\\\n\r$]*$/, { error: 'must not hold a double quote, a backslash, `$` or a line break' }),
      { error: 'must be a mapping of header names to values' },
    )
    .optional()
    .describe(
      `Response headers added ${where}, besides the security headers (a header of the same name replaces Ferry's), e.g. Content-Security-Policy.`,
    )
    .meta({ examples: [{ 'Content-Security-Policy': "default-src 'self'" }] });

const nginxSize = z
  .string({ error: 'must be an nginx size such as 512k, 10m or 1g' })
  .regex(/^\d+[kKmMgG]?$/, { error: 'must be an nginx size such as 512k, 10m or 1g' });

export const RouteSchema = z
  .strictObject(
    {
      path: z
        .string({ error: 'must be a URL path prefix starting with /' })
        .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, {
          error: 'must be a URL path prefix starting with / (letters, digits and URL path characters)',
        })
        .optional()
        .describe('Path prefix. Default: /.'),
      service: serviceName.describe('Service of this stack that serves the path.'),
      port: wholeNumber(1, 65535).describe(
        'Port the service listens on inside its container (it needs no published port).',
      ),
      websocket: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Pass websocket upgrades through. Default: false.'),
      sse: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Server-sent events: response buffering off and a 1 h read timeout. Default: false.'),
      body_size: nginxSize.optional().describe("Largest request body (client_max_body_size). Default: nginx's 1m."),
      timeout: duration('Read and send timeout towards the service. Default: 60s.').optional(),
      rate_limit: z
        .strictObject(
          {
            per_second: wholeNumber(1).describe('Requests per second allowed per client address.'),
            burst: wholeNumber(0)
              .optional()
              .describe('Requests over the rate that are queued before refusing with 429. Default: twice the rate.'),
          },
          { error: MAPPING },
        )
        .optional()
        .describe('Limit requests per client address (limit_req).'),
      cache: duration(
        'Let clients cache responses of this path this long (Cache-Control max-age and Expires), e.g. for /static. Default: no caching headers added.',
      ).optional(),
      headers: headers("on this route's responses (over the stack's `headers`)"),
    },
    { error: MAPPING },
  )
  .describe('A path prefix of the domains, served by a service of the stack.');

export const ProxySchema = z
  .strictObject(
    {
      domains: z
        .array(
          z
            .string({ error: 'must be a domain name' })
            .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
              error: 'must be a lower-case domain name such as shop.example.com',
            }),
          { error: 'must be a list of domain names' },
        )
        .min(1, { error: 'must name at least one domain' })
        .describe('Domain names nginx serves the stack on (server_name).'),
      tls: z
        .enum(['acme', 'none'], {
          error: "must be acme (a certificate from the fleet's `acme` CA) or none (HTTP only)",
        })
        .optional()
        .describe(
          '`acme`: get a certificate with certbot (webroot) from the CA of the top-level `acme`, renew it automatically and redirect HTTP to HTTPS once it exists. `none`: HTTP only. Default: acme.',
        ),
      hsts: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Send Strict-Transport-Security (one year) over HTTPS. Default: true.'),
      security_headers: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe('Send X-Content-Type-Options, X-Frame-Options and Referrer-Policy. Default: true.'),
      headers: headers("on every response of the stack's domains"),
      routes: z
        .array(RouteSchema, { error: 'must be a list of routes' })
        .min(1, { error: 'must have at least one route' })
        .describe('Path prefixes and the services that serve them; the longest matching prefix wins.'),
    },
    { error: MAPPING },
  )
  .describe('nginx on the server in front of the stack: domains, routes, TLS.');

export const AcmeSchema = z
  .strictObject(
    {
      email: z
        .string({ error: 'must be an email address' })
        .regex(/^[^\s@]+@[^\s@]+$/, { error: 'must be an email address' })
        .describe('Account email for the ACME CA (expiry notices).'),
      directory: z
        .string({ error: 'must be an https URL' })
        .regex(/^https:\/\/\S+$/, { error: 'must be an https URL' })
        .optional()
        .describe("ACME directory URL. Default: Let's Encrypt (https://acme-v02.api.letsencrypt.org/directory)."),
      ca_bundle: filePath
        .optional()
        .describe(
          "A CA certificate file on this machine (relative to ferry.yml) that servers must trust to reach the directory, e.g. a test CA. It is uploaded next to certbot's configuration.",
        ),
    },
    { error: MAPPING },
  )
  .describe('Where TLS certificates for `proxy.tls: acme` come from.');

/** A name server to ask: `192.0.2.53`, `127.0.0.1:5353`, `2001:db8::53` or `[2001:db8::53]:5353`. */
export const RESOLVER_PATTERN =
  '^(?:\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](?::\\d{1,5})?|[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$';
const RESOLVER_ERROR =
  'must be a name server address: an IP address, optionally with a port (127.0.0.1:5353, [2001:db8::53]:53)';

export const DnsSchema = z
  .strictObject(
    {
      resolvers: z
        .array(z.string({ error: RESOLVER_ERROR }).regex(new RegExp(RESOLVER_PATTERN), { error: RESOLVER_ERROR }), {
          error: 'must be a list of name server addresses',
        })
        .min(1, { error: 'must name at least one name server' })
        .optional()
        .describe(
          "Name servers that `ferry migrate` asks for the domains' records, instead of this machine's resolvers; with a hook, your provider's authoritative servers, which answer a change at once.",
        )
        .meta({ examples: [['127.0.0.1:5353'], ['198.51.100.53', '[2001:db8::53]:53']] }),
      hook: filePath
        .optional()
        .describe(
          'An executable on this machine (relative to ferry.yml, or absolute) that changes one record at your DNS provider, called by `ferry migrate` at cut-over with FERRY_STACK, FERRY_DOMAIN, FERRY_RECORD_TYPE, FERRY_OLD_ADDRESS, FERRY_NEW_ADDRESS and FERRY_TTL in its environment. Default: none; the migration says which record to change to what.',
        ),
      max_ttl: duration(
        'Refuse to migrate when a record to change has a longer TTL (clients may keep the old address that long). Default: no limit; a TTL over 5m is a warning.',
      ).optional(),
      wait: duration(
        'How long the migration waits, after the hook, for the resolvers to answer the new address before the change counts as failed. Default: 5m.',
      ).optional(),
    },
    { error: MAPPING },
  )
  .describe(
    "The DNS records of the stacks' domains during `ferry migrate`: where to read them, a hook that changes them, the longest TTL accepted.",
  );

/** Where nginx shows its counters (`stub_status`) inside a service's container. */
const NginxStatusSchema = z
  .strictObject(
    {
      port: wholeNumber(1, 65535).describe('The port, inside the container, of the server block with `stub_status`.'),
      path: z
        .string({ error: 'must be a path such as /stub_status' })
        .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, { error: 'must be a path such as /stub_status' })
        .optional()
        .describe('The location with `stub_status`. Default: /stub_status.'),
    },
    { error: MAPPING },
  )
  .describe(
    "The service runs nginx with its `stub_status` page on: with `monitoring`, an nginx exporter on the stack's network reads it (http://SERVICE:PORT/PATH). Set it on an nginx image of your own too.",
  );

export const StackServiceSchema = z
  .strictObject(
    {
      server: name('server')
        .optional()
        .describe("Name of the server (under `servers`) the service runs on. Default: the stack's."),
      port: wholeNumber(1, 65535)
        .optional()
        .describe(
          "With `server`: the port the other services reach it on (published on that server's private address, allowed only from the stack's server). Default: the image's well-known port (Postgres 5432, Redis 6379, MySQL/MariaDB 3306), else its only `expose`d port.",
        ),
      nginx_status: NginxStatusSchema.optional(),
      tune: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe(
          "A Postgres service: set shared_buffers, effective_cache_size, maintenance_work_mem and work_mem from its memory limit (else the server's `memory`), and max_connections from the pools that connect to it, as `-c` settings on its command (those the command sets stay). Default: false.",
        ),
      server_postgres: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe(
          "A Postgres service whose database is kept in the Postgres installed on the stack's server (`servers.NAME.postgres`), not in a container: Ferry runs no container of it, creates its role and database there (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB), lets the stack's networks in, and maps the service's name to the host (`host-gateway`) for the other services. `ferry migrate` moves its data there. Default: false.",
        ),
    },
    { error: MAPPING },
  )
  .refine((s) => !(s.server_postgres === true && (s.server !== undefined || s.tune === true)), {
    error:
      "`server_postgres` keeps the database in the Postgres of the stack's server: it goes with neither `server` nor `tune` (tune that Postgres with servers.NAME.postgres.tune)",
    path: ['server_postgres'],
  })
  .refine((s) => s.server !== undefined || s.port === undefined, {
    error: '`port` is the port of a service placed on another server: set `server` with it',
    path: ['port'],
  })
  .describe(
    "Settings of one service. With `server`, the service is placed on another server: the rest of the stack reaches it at that server's private address, through a firewall that lets only the stack's server in.",
  );

export const StackSchema = z
  .strictObject(
    {
      server: name('server').describe('Name of the server (under `servers`) the stack runs on.'),
      compose: z
        .union([filePath, z.array(filePath, { error: 'must be a list of one or more file paths' }).min(1)], {
          error: 'must be a file path or a list of file paths',
        })
        .describe(
          'Compose file, or list of Compose files applied in order (like `docker compose -f a -f b`). Relative paths are resolved from the directory of ferry.yml.',
        )
        .meta({ examples: ['docker-compose.yml', ['compose.yml', 'compose.prod.yml']] }),
      env_file: filePath
        .optional()
        .describe(
          "The .env file Compose reads for variable interpolation, relative to the directory of ferry.yml. Default: the compose project's .env (beside the first compose file).",
        ),
      profiles: z
        .array(z.string({ error: 'must be a profile name' }).regex(new RegExp(SERVICE_PATTERN)), {
          error: 'must be a list of profile names',
        })
        .optional()
        .describe('Compose profiles to enable (like `docker compose --profile`).'),
      project: name('Compose project')
        .optional()
        .describe(
          'Compose project name. Default: what Compose picks (top-level `name:`, else the directory of the first compose file).',
        ),
      connections: z
        .array(ConnectionSchema, { error: 'must be a list of connection pools' })
        .optional()
        .describe('Postgres connection pools that services of this stack open, for the connection-budget check.'),
      deploy: DeploySchema.optional(),
      migrate: z
        .strictObject(
          {
            max_pause: duration(
              "The longest any wait inside a migration's write pause may last (a Redis save, replication catching up, the target's Postgres accepting connections, the started stack becoming healthy); past it the migration is rolled back and the source serves again. Default: 60s.",
            ).optional(),
          },
          { error: MAPPING },
        )
        .optional()
        .describe('How `ferry migrate` moves the stack.'),
      proxy: ProxySchema.optional(),
      backups: BackupsSchema.optional().describe(
        'Back up this stack with restic (merged over the top-level `backups` key by key); see docs/backups.md.',
      ),
      services: z
        .record(serviceName, StackServiceSchema, { error: 'must be a mapping of service names to their settings' })
        .optional()
        .describe(
          "Settings of services of the stack, by service name: the server one runs on when not the stack's (e.g. its Postgres on a database server; `ferry migrate STACK --service NAME --to SERVER` moves one there with its data), where an nginx shows its counters.",
        ),
    },
    { error: MAPPING },
  )
  .describe('A Docker Compose stack and the server it runs on.');

export const FleetFileSchema = z
  .strictObject(
    {
      servers: z
        .record(name('server'), ServerSchema, { error: 'must be a mapping of server names to servers' })
        .describe(`The servers of the fleet, by name (${NAME_RULE}).`),
      stacks: z
        .record(name('stack'), StackSchema, { error: 'must be a mapping of stack names to stacks' })
        .describe(`The stacks of the fleet, by name (${NAME_RULE}).`),
      acme: AcmeSchema.optional(),
      dns: DnsSchema.optional(),
      backups: BackupsSchema.optional().describe(
        "Defaults for every stack's `backups` (a stack is backed up only when it has its own `backups` key, `{}` will do); see docs/backups.md.",
      ),
      harden: HardenSchema.optional().describe(
        "Hardening of every server of the fleet (each server's own `harden` is merged over it, or `false` opts it out); see docs/harden.md.",
      ),
      monitoring: MonitoringSchema.optional().describe(
        'Prometheus, Alertmanager and Grafana on one server, exporters on every server, alert rules generated from the stacks; see docs/monitoring.md.',
      ),
    },
    { error: MAPPING },
  )
  .describe('Ferry fleet file (ferry.yml): the servers, and which Docker Compose stack runs where.');

/** ferry.yml after validation, before paths are resolved (keys as written, defaults applied). */
export type FleetFile = z.output<typeof FleetFileSchema>;
export type ServerEntry = z.output<typeof ServerSchema>;
export type StackEntry = z.output<typeof StackSchema>;

export const FLEET_SCHEMA_ID = 'urn:ferry:schema:fleet-file';

/** The JSON Schema of ferry.yml (draft-07, which editors support best), as committed in schema/ferry.schema.json. */
export function fleetJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(FleetFileSchema, {
    target: 'draft-7',
    io: 'input',
    override(ctx) {
      if (ctx.zodSchema === FleetFileSchema)
        ctx.jsonSchema.patternProperties = {
          '^x-': { description: 'Ignored by Ferry: a place for YAML anchors, as in Compose.' },
        };
    },
  }) as Record<string, unknown>;
  const { $schema, description, ...rest } = generated;
  return {
    $schema,
    $id: FLEET_SCHEMA_ID,
    title: 'Ferry fleet file (ferry.yml)',
    description,
    ...rest,
  };
}

/** `fleetJsonSchema()` as written to schema/ferry.schema.json. */
export function fleetJsonSchemaText(): string {
  return `${JSON.stringify(fleetJsonSchema(), null, 2)}\n`;
}
