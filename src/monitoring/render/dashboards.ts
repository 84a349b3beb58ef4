/** What each Grafana dashboard shows: one query a panel, filtered by the dashboard's variable. */

export interface PanelSpec {
  title: string;
  expr: string;
  /** Grafana unit id: percent, bytes, Bps, s, short, reqps... */
  unit: string;
  legend: string;
  type?: 'timeseries' | 'stat';
}

export interface DashboardSpec {
  uid: string;
  title: string;
  variable: { name: string; query: string };
  panels: PanelSpec[];
}

const server = { name: 'server', query: 'label_values(up{job="node"}, server)' };
const S = 'server=~"$server"';
const DISKS = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs"';
const R = '$__rate_interval';

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'ferry-hosts',
    title: 'Ferry: hosts',
    variable: server,
    panels: [
      {
        title: 'CPU busy',
        expr: `100 * (1 - avg by (server) (rate(node_cpu_seconds_total{mode="idle",${S}}[${R}])))`,
        unit: 'percent',
        legend: '{{server}}',
      },
      {
        title: 'Memory in use',
        expr: `100 * (1 - node_memory_MemAvailable_bytes{${S}} / node_memory_MemTotal_bytes{${S}})`,
        unit: 'percent',
        legend: '{{server}}',
      },
      {
        title: 'Disk used',
        expr: `100 * (1 - node_filesystem_avail_bytes{${DISKS},${S}} / node_filesystem_size_bytes{${DISKS},${S}})`,
        unit: 'percent',
        legend: '{{server}} {{mountpoint}}',
      },
      {
        title: 'Disk free in 24 hours (at the last 6 hours rate)',
        expr: `predict_linear(node_filesystem_avail_bytes{${DISKS},${S}}[6h], 24 * 3600)`,
        unit: 'bytes',
        legend: '{{server}} {{mountpoint}}',
      },
      {
        title: 'Network received',
        expr: `sum by (server) (rate(node_network_receive_bytes_total{device!="lo",${S}}[${R}]))`,
        unit: 'Bps',
        legend: '{{server}}',
      },
      { title: 'Load (1 minute)', expr: `node_load1{${S}}`, unit: 'short', legend: '{{server}}' },
    ],
  },
  {
    uid: 'ferry-containers',
    title: 'Ferry: containers',
    variable: server,
    panels: [
      {
        title: 'CPU by container',
        expr: `sum by (server, name) (rate(container_cpu_usage_seconds_total{name!="",${S}}[${R}]))`,
        unit: 'short',
        legend: '{{server}} {{name}}',
      },
      {
        title: 'Memory by container (working set)',
        expr: `container_memory_working_set_bytes{name!="",${S}}`,
        unit: 'bytes',
        legend: '{{server}} {{name}}',
      },
      {
        title: 'Restarts in the last hour',
        expr: `changes(container_start_time_seconds{name!="",${S}}[1h])`,
        unit: 'short',
        legend: '{{server}} {{name}}',
      },
      {
        title: 'Out-of-memory kills in the last hour',
        expr: `increase(container_oom_events_total{name!="",${S}}[1h])`,
        unit: 'short',
        legend: '{{server}} {{name}}',
      },
      {
        title: 'Unhealthy containers',
        expr: `ferry_container_unhealthy{${S}} == 1`,
        unit: 'short',
        legend: '{{server}} {{name}}',
      },
    ],
  },
  {
    uid: 'ferry-postgres',
    title: 'Ferry: Postgres',
    variable: { name: 'server', query: 'label_values(pg_up, server)' },
    panels: [
      { title: 'Up', expr: `pg_up{${S}}`, unit: 'short', legend: '{{server}} {{service}}', type: 'stat' },
      {
        title: 'Connections in use of max_connections',
        expr: `100 * sum by (server, instance) (pg_stat_activity_count{${S}}) / on (server, instance) max by (server, instance) (pg_settings_max_connections{${S}})`,
        unit: 'percent',
        legend: '{{server}} {{instance}}',
      },
      {
        title: 'Connections by state',
        expr: `sum by (server, state) (pg_stat_activity_count{${S}})`,
        unit: 'short',
        legend: '{{server}} {{state}}',
      },
      {
        title: 'Commits per second',
        expr: `sum by (server, datname) (rate(pg_stat_database_xact_commit{${S}}[${R}]))`,
        unit: 'short',
        legend: '{{server}} {{datname}}',
      },
      {
        title: 'Database size',
        expr: `pg_database_size_bytes{${S}}`,
        unit: 'bytes',
        legend: '{{server}} {{datname}}',
      },
      {
        title: 'Replication slots active',
        expr: `pg_replication_slot_slot_is_active{${S}}`,
        unit: 'short',
        legend: '{{server}} {{slot_name}}',
      },
    ],
  },
  {
    uid: 'ferry-redis',
    title: 'Ferry: Redis',
    variable: { name: 'server', query: 'label_values(redis_up, server)' },
    panels: [
      { title: 'Up', expr: `redis_up{${S}}`, unit: 'short', legend: '{{server}} {{service}}', type: 'stat' },
      {
        title: 'Memory used',
        expr: `redis_memory_used_bytes{${S}}`,
        unit: 'bytes',
        legend: '{{server}} {{service}}',
      },
      {
        title: 'Commands per second',
        expr: `rate(redis_commands_processed_total{${S}}[${R}])`,
        unit: 'short',
        legend: '{{server}} {{service}}',
      },
      {
        title: 'Connected clients',
        expr: `redis_connected_clients{${S}}`,
        unit: 'short',
        legend: '{{server}} {{service}}',
      },
      {
        title: 'Seconds since the last RDB save',
        expr: `time() - redis_rdb_last_save_timestamp_seconds{${S}}`,
        unit: 's',
        legend: '{{server}} {{service}}',
      },
      {
        title: 'Keys',
        expr: `sum by (server, service) (redis_db_keys{${S}})`,
        unit: 'short',
        legend: '{{server}} {{service}}',
      },
    ],
  },
  {
    uid: 'ferry-nginx',
    title: 'Ferry: nginx and sites',
    variable: { name: 'stack', query: 'label_values(probe_success{job="blackbox-http"}, stack)' },
    panels: [
      {
        title: 'Site up (probe)',
        expr: 'probe_success{job="blackbox-http",stack=~"$stack"}',
        unit: 'short',
        legend: '{{instance}}',
        type: 'stat',
      },
      {
        title: 'Probe duration',
        expr: 'probe_duration_seconds{job="blackbox-http",stack=~"$stack"}',
        unit: 's',
        legend: '{{instance}}',
      },
      {
        title: 'HTTP status of the probe',
        expr: 'probe_http_status_code{job="blackbox-http",stack=~"$stack"}',
        unit: 'short',
        legend: '{{instance}}',
      },
      {
        title: 'Days until the certificate expires',
        expr: '(probe_ssl_earliest_cert_expiry{job="blackbox-http",stack=~"$stack"} - time()) / 86400',
        unit: 'short',
        legend: '{{instance}}',
      },
      {
        title: 'nginx requests per second',
        expr: `sum by (server) (rate(nginx_http_requests_total[${R}]))`,
        unit: 'reqps',
        legend: '{{server}}',
      },
      {
        title: 'nginx active connections',
        expr: 'nginx_connections_active',
        unit: 'short',
        legend: '{{server}} {{service}}',
      },
    ],
  },
];
