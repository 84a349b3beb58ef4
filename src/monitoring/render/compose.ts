/**
 * The Compose projects of monitoring: `ferry-monitoring` on the monitoring server
 * (Prometheus, Alertmanager, the blackbox prober, Grafana; their web ports on 127.0.0.1
 * only, reached through an SSH tunnel) and `ferry-exporters` on every server
 * (node_exporter on the host network, cAdvisor, the exporter of Ferry's nginx, and the
 * exporters of the stacks' Postgres and Redis services on their networks), beside the
 * files the other renderers write.
 */
import type { MonitoringDef } from '../../model/monitoring.js';
import { EXPORTER_PORTS, type ExporterTarget, type ServerTarget } from '../targets.js';
import { TEXTFILE_DIR } from './health.js';
import { MONITOR_PASSWORD_FILE, MONITOR_ROLE } from '../host-postgres.js';
import { NGINX_STATUS_URI } from './nginx-status.js';
import { secretName } from './alertmanager.js';
import { renderYaml } from './yaml.js';

const always = { restart: 'unless-stopped' };
const health = (url: string) => ({
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', url],
  interval: '30s',
  timeout: '5s',
  retries: 3,
});

/** Where each directory of the generated files is seen inside the containers. */
const MOUNTS: [dir: string, target: string][] = [
  ['prometheus/', '/etc/prometheus/'],
  ['alertmanager/', '/etc/alertmanager/'],
  ['blackbox/', '/etc/blackbox/'],
  ['grafana/provisioning/', '/etc/grafana/provisioning/'],
  ['grafana/dashboards/', '/var/lib/grafana/dashboards/'],
];

/** One read-only bind per file (not per directory), so that a release ships exactly these files. */
const binds = (files: readonly string[], dir: string): string[] => {
  const target = MOUNTS.find(([d]) => d === dir)![1];
  return files.filter((f) => f.startsWith(dir)).map((f) => `./${f}:${target}${f.slice(dir.length)}:ro`);
};

/** The receivers' Compose secrets, by secret name: the file each is read from in the project directory. */
export const receiverSecretFile = (receiver: string): string => `alertmanager/secrets/${receiver}`;
export const GRAFANA_PASSWORD_FILE = 'grafana/admin-password';

/**
 * `files`: the generated configuration files (paths in the project directory); `secrets`:
 * the receivers that have a secret. The containers run as root: Prometheus and Grafana
 * write their data volumes, and a release's files are root's.
 */
export function renderMonitoringCompose(
  def: MonitoringDef,
  files: readonly string[],
  secrets: readonly string[],
): string {
  const root = { user: '0:0' };
  const grafana = def.grafana !== false;
  return renderYaml({
    name: 'ferry-monitoring',
    services: {
      prometheus: {
        image: def.images.prometheus,
        command: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--storage.tsdb.retention.time=${def.retention}`,
        ],
        volumes: [...binds(files, 'prometheus/'), 'prometheus-data:/prometheus'],
        ports: ['127.0.0.1:9090:9090'],
        mem_limit: '1g',
        healthcheck: health('http://127.0.0.1:9090/-/healthy'),
        ...root,
        ...always,
      },
      alertmanager: {
        image: def.images.alertmanager,
        command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
        volumes: [...binds(files, 'alertmanager/'), 'alertmanager-data:/alertmanager'],
        ...(secrets.length > 0 ? { secrets: secrets.map(secretName) } : {}),
        ports: ['127.0.0.1:9093:9093'],
        mem_limit: '256m',
        healthcheck: health('http://127.0.0.1:9093/-/healthy'),
        ...root,
        ...always,
      },
      blackbox: {
        image: def.images.blackboxExporter,
        command: ['--config.file=/etc/blackbox/blackbox.yml'],
        volumes: binds(files, 'blackbox/'),
        mem_limit: '128m',
        healthcheck: health('http://127.0.0.1:9115/-/healthy'),
        ...root,
        ...always,
      },
      ...(grafana
        ? {
            grafana: {
              image: def.images.grafana,
              environment: {
                GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana-admin-password',
                GF_USERS_ALLOW_SIGN_UP: 'false',
              },
              secrets: ['grafana-admin-password'],
              volumes: [
                ...binds(files, 'grafana/provisioning/'),
                ...binds(files, 'grafana/dashboards/'),
                'grafana-data:/var/lib/grafana',
              ],
              ports: ['127.0.0.1:3000:3000'],
              mem_limit: '512m',
              healthcheck: health('http://127.0.0.1:3000/api/health'),
              ...root,
              ...always,
            },
          }
        : {}),
    },
    ...(grafana || secrets.length > 0
      ? {
          secrets: {
            ...Object.fromEntries(secrets.map((r) => [secretName(r), { file: `./${receiverSecretFile(r)}` }])),
            ...(grafana ? { 'grafana-admin-password': { file: `./${GRAFANA_PASSWORD_FILE}` } } : {}),
          },
        }
      : {}),
    volumes: {
      'prometheus-data': {},
      'alertmanager-data': {},
      ...(grafana ? { 'grafana-data': {} } : {}),
    },
  });
}

/** node_exporter on the host network (the host's own network figures), listening on the server's address only; cAdvisor published there. */
export function renderExportersCompose(
  def: MonitoringDef,
  server: ServerTarget,
  exporters: readonly ExporterTarget[] = [],
): string {
  const mine = exporters.filter((e) => e.server === server.name);
  const pg = mine.filter((e) => e.kind === 'postgres' && e.connect);
  const redis = mine.filter((e) => e.kind === 'redis' && e.redis);
  const mysql = mine.filter((e) => e.kind === 'mysql' && e.mysql);
  const proxy = mine.find((e) => e.kind === 'nginx' && e.stack === undefined);
  const hostPg = mine.find((e) => e.kind === 'postgres' && e.hostPostgres);
  const nginx = mine.filter((e) => e.kind === 'nginx' && e.nginx);
  const networks = [
    ...new Set([
      ...pg.map((e) => e.connect!.network),
      ...redis.map((e) => e.redis!.network),
      ...mysql.map((e) => e.mysql!.network),
      ...nginx.map((e) => e.nginx!.network),
    ]),
  ].sort();
  const secrets = [...pg, ...redis.filter((e) => e.redis!.auth), ...mysql];
  return renderYaml({
    name: 'ferry-exporters',
    services: {
      'node-exporter': {
        image: def.images.nodeExporter,
        command: [
          '--path.rootfs=/host',
          `--collector.textfile.directory=/host${TEXTFILE_DIR}`,
          `--web.listen-address=${server.address}:${EXPORTER_PORTS.node}`,
        ],
        network_mode: 'host',
        pid: 'host',
        volumes: ['/:/host:ro,rslave'],
        mem_limit: '128m',
        ...always,
      },
      ...(def.cadvisor ? { cadvisor: cadvisor(def, server) } : {}),
      ...(proxy ? { 'nginx-exporter': nginxExporter(def, proxy) } : {}),
      ...(hostPg ? { [HOST_POSTGRES_EXPORTER]: hostPostgresExporter(def, hostPg) } : {}),
      ...Object.fromEntries(pg.map((e) => [exporterName(e), postgresExporter(def, e)])),
      ...Object.fromEntries(redis.map((e) => [exporterName(e), redisExporter(def, e)])),
      ...Object.fromEntries(mysql.map((e) => [exporterName(e), mysqlExporter(def, e)])),
      ...Object.fromEntries(nginx.map((e) => [exporterName(e), nginxServiceExporter(def, e)])),
    },
    ...(networks.length > 0
      ? { networks: Object.fromEntries(networks.map((n) => [n, { external: true, name: n }])) }
      : {}),
    ...(secrets.length > 0
      ? {
          secrets: Object.fromEntries(secrets.map((e) => [exporterSecret(e), { file: `./${exporterSecretFile(e)}` }])),
        }
      : {}),
  });
}

/** The service of the exporter of a stack's service. */
export const exporterName = (e: Pick<ExporterTarget, 'kind' | 'stack' | 'service'>): string =>
  `${e.kind}-${e.stack}-${e.service}`;

/**
 * The Compose secret holding the password of the service an exporter watches, and its file
 * beside compose.yml: the Postgres password itself; for Redis, redis_exporter's password
 * file (JSON: the address it scrapes, then the password); for MySQL, mysqld_exporter's
 * my.cnf.
 */
export const exporterSecret = (e: Pick<ExporterTarget, 'kind' | 'stack' | 'service'>): string =>
  e.kind === 'postgres' ? `pg-${e.stack}-${e.service}` : exporterName(e);
export const exporterSecretFile = (e: Pick<ExporterTarget, 'kind' | 'stack' | 'service'>): string =>
  `secrets/${exporterSecret(e)}`;

/** What redis_exporter scrapes: the service by name on its network. */
export const redisAddress = (e: ExporterTarget): string => `redis://${e.service}:${e.redis!.port}`;

/** The text of redis_exporter's password file. */
export const redisPasswordFile = (e: ExporterTarget, password: string): string =>
  `${JSON.stringify({ [redisAddress(e)]: password })}\n`;

/**
 * The text of mysqld_exporter's my.cnf: the `[client]` it logs in as, the service by name.
 * Its ini reader cuts a value at a `#` or `;` (a comment) before it takes double quotes
 * off, so the password is quoted in backticks, or in triple double quotes when it holds a
 * backtick: both are read raw. Undefined for a password neither can hold.
 */
export function mysqlMyCnf(e: ExporterTarget, password: string): string | undefined {
  const m = e.mysql!;
  if (/[\r\n]/.test(password) || (password.includes('`') && password.includes('"""'))) return undefined;
  const quoted = password.includes('`') ? `"""${password}"""` : `\`${password}\``;
  return ['[client]', `user=${m.user}`, `password=${quoted}`, `host=${e.service}`, `port=${m.port}`, ''].join('\n');
}

/** mysqld_exporter on the stack's network, its credentials read from a my.cnf secret, never the environment. */
function mysqlExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  return {
    image: def.images.mysqlExporter,
    command: [`--config.my-cnf=/run/secrets/${exporterSecret(e)}`],
    secrets: [exporterSecret(e)],
    ...onStackNetwork(e, e.mysql!.network, EXPORTER_PORTS.mysql),
  };
}

/**
 * postgres_exporter on the stack's network, reaching the service by name; the password from
 * a secret file (DATA_SOURCE_PASS_FILE), never in the environment.
 */
function postgresExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  const c = e.connect!;
  return {
    image: def.images.postgresExporter,
    environment: {
      DATA_SOURCE_URI: `${e.service}:5432/${c.db}?sslmode=disable`,
      DATA_SOURCE_USER: c.user,
      DATA_SOURCE_PASS_FILE: `/run/secrets/${exporterSecret(e)}`,
    },
    secrets: [exporterSecret(e)],
    ...onStackNetwork(e, c.network, EXPORTER_PORTS.postgres),
  };
}

/**
 * redis_exporter on the stack's network, scraping the service by name; a password Redis
 * requires is read from a secret file (`--redis.password-file`), never the environment or
 * the command line.
 */
function redisExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  const r = e.redis!;
  return {
    image: def.images.redisExporter,
    command: [
      `--redis.addr=${redisAddress(e)}`,
      ...(r.auth ? [`--redis.password-file=/run/secrets/${exporterSecret(e)}`] : []),
    ],
    ...(r.auth ? { secrets: [exporterSecret(e)] } : {}),
    ...onStackNetwork(e, r.network, EXPORTER_PORTS.redis),
  };
}

/**
 * nginx-prometheus-exporter on the stack's network, reading an nginx service's stub_status
 * by name. Upstream's image has no shell nor wget: no healthcheck (NginxDown says when it
 * cannot read the page; ExporterDown when it is gone).
 */
function nginxServiceExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  return {
    image: def.images.nginxExporter,
    command: [`--nginx.scrape-uri=${e.nginx!.url}`],
    ...onStackNetwork(e, e.nginx!.network, EXPORTER_PORTS.nginx, false),
  };
}

/**
 * The rest of an exporter of a stack's service: on the service's network, its port
 * (`listens`, inside the container) published on the exporter's address, run as root
 * (the secret file it reads is root's, read-only), with a healthcheck by wget unless
 * `checked` is false.
 */
function onStackNetwork(e: ExporterTarget, network: string, listens: number, checked = true): Record<string, unknown> {
  const port = e.address.split(':').pop()!;
  return {
    networks: [network],
    ports: [`${e.address.slice(0, -port.length - 1)}:${port}:${listens}`],
    user: '0:0',
    mem_limit: '64m',
    ...(checked ? { healthcheck: health(`http://127.0.0.1:${listens}/`) } : {}),
    ...always,
  };
}

/** The exporter of a Postgres installed on the server. */
export const HOST_POSTGRES_EXPORTER = 'postgres-exporter';
/** Where the exporter reads its password file. */
const MONITOR_PASSWORD_IN = '/run/secrets/host-postgres';

/**
 * postgres_exporter of a Postgres installed on the server: on the host's network, listening
 * on the server's address, logging in on loopback as Ferry's monitoring role with the
 * password Ferry keeps on the server (monitoring/host-postgres.ts), read from its
 * file (DATA_SOURCE_PASS_FILE), never the environment.
 */
function hostPostgresExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  return {
    image: def.images.postgresExporter,
    command: [`--web.listen-address=${e.address}`],
    environment: {
      DATA_SOURCE_URI: `127.0.0.1:${e.hostPostgres!.port}/postgres?sslmode=disable`,
      DATA_SOURCE_USER: MONITOR_ROLE,
      DATA_SOURCE_PASS_FILE: MONITOR_PASSWORD_IN,
    },
    volumes: [`${MONITOR_PASSWORD_FILE}:${MONITOR_PASSWORD_IN}:ro`],
    network_mode: 'host',
    user: '0:0',
    mem_limit: '64m',
    // No healthcheck, as node_exporter: it listens on the server's address, whose drop rule
    // refuses the server itself (ExporterDown says when it is gone, PostgresDown when it cannot log in).
    ...always,
  };
}

/** nginx-prometheus-exporter of Ferry's nginx (the proxy): on the host's network, reading the status page on loopback. */
function nginxExporter(def: MonitoringDef, e: ExporterTarget): Record<string, unknown> {
  return {
    image: def.images.nginxExporter,
    command: [`--nginx.scrape-uri=${NGINX_STATUS_URI}`, `--web.listen-address=${e.address}`],
    network_mode: 'host',
    mem_limit: '32m',
    ...always,
  };
}

function cadvisor(def: MonitoringDef, server: ServerTarget): Record<string, unknown> {
  return {
    image: def.images.cadvisor,
    command: [`--port=${EXPORTER_PORTS.cadvisor}`, '--docker_only=true', '--housekeeping_interval=30s'],
    privileged: true,
    devices: ['/dev/kmsg'],
    volumes: ['/:/rootfs:ro', '/var/run:/var/run:ro', '/sys:/sys:ro', '/var/lib/docker/:/var/lib/docker:ro'],
    ports: [`${server.address}:${EXPORTER_PORTS.cadvisor}:${EXPORTER_PORTS.cadvisor}`],
    mem_limit: '256m',
    healthcheck: health(`http://127.0.0.1:${EXPORTER_PORTS.cadvisor}/healthz`),
    ...always,
  };
}
