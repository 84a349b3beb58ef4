/** Alert rules of stateful services (postgres_exporter, redis_exporter, mysqld_exporter, nginx) and of sites (blackbox). */
import type { Thresholds } from '../model/monitoring.js';
import type { RuleGroup } from './rule.js';
import { sel } from './rules-hosts.js';

const PG = { job: 'postgres', instance: '10.0.0.6:9187', server: 'db', stack: 'shop', service: 'postgres' };
const REDIS = { job: 'redis', instance: '10.0.0.5:9121', server: 'app', stack: 'shop', service: 'redis' };
const MYSQL = { job: 'mysql', instance: '10.0.0.5:9104', server: 'app', stack: 'blog', service: 'mysql' };
const NGINX = { job: 'nginx', instance: '10.0.0.5:9113', server: 'app' };
const SITE = { job: 'blackbox-http', instance: 'https://shop.example.com/', stack: 'shop' };
const SLOT = { ...PG, slot_name: 'ferry_migrate_shop', slot_type: 'logical' };

/** A Postgres service by its stack and name; one installed on the server has neither. */
const PG_NAME = '{{ if $labels.stack }}{{ $labels.stack }}/{{ $labels.service }}{{ else }}installed{{ end }}';

/** Hours as seconds in PromQL. */
const hours = (h: number): string => `${h} * 3600`;

export function postgresRules(t: Thresholds): RuleGroup {
  const labels = { server: PG.server, instance: PG.instance, stack: PG.stack, service: PG.service };
  const by = 'server, instance, stack, service';
  return {
    name: 'ferry-postgres',
    rules: [
      {
        alert: 'PostgresDown',
        expr: 'pg_up == 0',
        for: '1m',
        severity: 'critical',
        summary: `Postgres ${PG_NAME} on {{ $labels.server }} is down`,
        description: 'postgres_exporter at {{ $labels.instance }} cannot reach its Postgres.',
        proof: { series: [{ series: sel('pg_up', PG), bad: '0x10', good: '1x10' }], evalAt: '5m', labels: PG },
      },
      {
        alert: 'PostgresTooManyConnections',
        expr: `100 * sum by (${by}) (pg_stat_activity_count) / on (${by}) max by (${by}) (pg_settings_max_connections) > ${t.postgresConnectionsPercent}`,
        for: '5m',
        severity: 'warning',
        summary: `Postgres ${PG_NAME} on {{ $labels.server }} is near its max_connections`,
        description: `Connections to Postgres on {{ $labels.server }} have been over ${t.postgresConnectionsPercent}% of its own max_connections for 5m.`,
        proof: {
          series: [
            {
              series: sel('pg_stat_activity_count', { ...PG, datname: 'shop', state: 'active' }),
              bad: '300x20',
              good: '40x20',
            },
            {
              series: sel('pg_stat_activity_count', { ...PG, datname: 'shop', state: 'idle' }),
              bad: '150x20',
              good: '60x20',
            },
            { series: sel('pg_settings_max_connections', PG), bad: '500x20', good: '500x20' },
          ],
          evalAt: '10m',
          labels,
        },
      },
      {
        alert: 'PostgresReplicationSlotInactive',
        expr: 'pg_replication_slot_slot_is_active == 0',
        for: t.replicationSlotInactiveFor,
        severity: 'warning',
        summary: 'Replication slot {{ $labels.slot_name }} on {{ $labels.server }} is inactive',
        description: `Slot {{ $labels.slot_name }} has had no consumer for ${t.replicationSlotInactiveFor}: Postgres keeps every WAL file for it until the disk fills. A migration leftover? Drop it with pg_drop_replication_slot('{{ $labels.slot_name }}').`,
        proof: {
          series: [{ series: sel('pg_replication_slot_slot_is_active', SLOT), bad: '0x60', good: '1x60' }],
          evalAt: '50m',
          labels: SLOT,
        },
      },
    ],
  };
}

export function redisRules(t: Thresholds): RuleGroup {
  return {
    name: 'ferry-redis',
    rules: [
      {
        alert: 'RedisDown',
        expr: 'redis_up == 0',
        for: '1m',
        severity: 'critical',
        summary: 'Redis {{ $labels.stack }}/{{ $labels.service }} on {{ $labels.server }} is down',
        description: 'redis_exporter at {{ $labels.instance }} cannot reach its Redis.',
        proof: { series: [{ series: sel('redis_up', REDIS), bad: '0x10', good: '1x10' }], evalAt: '5m', labels: REDIS },
      },
      {
        alert: 'RedisHighMemory',
        expr: `100 * redis_memory_used_bytes / redis_memory_max_bytes > ${t.redisMemoryPercent} and redis_memory_max_bytes > 0`,
        for: '5m',
        severity: 'warning',
        summary: 'Redis {{ $labels.stack }}/{{ $labels.service }} is near its maxmemory',
        description: `Redis on {{ $labels.server }} has used over ${t.redisMemoryPercent}% of its maxmemory for 5m: it evicts keys or refuses writes next.`,
        proof: {
          series: [
            { series: sel('redis_memory_used_bytes', REDIS), bad: '95e6x20', good: '10e6x20' },
            { series: sel('redis_memory_max_bytes', REDIS), bad: '100e6x20', good: '100e6x20' },
          ],
          evalAt: '10m',
          labels: REDIS,
        },
      },
      {
        alert: 'RedisSaveFailing',
        expr: 'redis_rdb_last_bgsave_status == 0',
        for: '5m',
        severity: 'critical',
        summary: 'Redis {{ $labels.stack }}/{{ $labels.service }} cannot save',
        description: 'The last background save (RDB) of Redis on {{ $labels.server }} failed: its data is not on disk.',
        proof: {
          series: [{ series: sel('redis_rdb_last_bgsave_status', REDIS), bad: '0x20', good: '1x20' }],
          evalAt: '10m',
          labels: REDIS,
        },
      },
      {
        alert: 'RedisNotPersisting',
        expr: `redis_aof_enabled == 0 and redis_rdb_changes_since_last_save > 0 and time() - redis_rdb_last_save_timestamp_seconds > ${hours(t.redisUnsavedHours)}`,
        for: '10m',
        severity: 'warning',
        summary: 'Redis {{ $labels.stack }}/{{ $labels.service }} keeps writes only in memory',
        description: `Redis on {{ $labels.server }} has no AOF and has not saved its writes to RDB for ${t.redisUnsavedHours} hours: a restart loses them.`,
        proof: {
          series: [
            { series: sel('redis_aof_enabled', REDIS), bad: '0x500', good: '1x500' },
            { series: sel('redis_rdb_changes_since_last_save', REDIS), bad: '5x500', good: '5x500' },
            { series: sel('redis_rdb_last_save_timestamp_seconds', REDIS), bad: '0x500', good: '0x500' },
          ],
          evalAt: '8h',
          labels: REDIS,
        },
      },
    ],
  };
}

export function mysqlRules(): RuleGroup {
  return {
    name: 'ferry-mysql',
    rules: [
      {
        alert: 'MysqlDown',
        expr: 'mysql_up == 0',
        for: '1m',
        severity: 'critical',
        summary: 'MySQL {{ $labels.stack }}/{{ $labels.service }} on {{ $labels.server }} is down',
        description: 'mysqld_exporter at {{ $labels.instance }} cannot reach its MySQL.',
        proof: { series: [{ series: sel('mysql_up', MYSQL), bad: '0x10', good: '1x10' }], evalAt: '5m', labels: MYSQL },
      },
    ],
  };
}

export function nginxRules(): RuleGroup {
  return {
    name: 'ferry-nginx',
    rules: [
      {
        alert: 'NginxDown',
        expr: 'nginx_up == 0',
        for: '1m',
        severity: 'critical',
        summary: 'nginx on {{ $labels.server }} is down',
        description: 'nginx-prometheus-exporter at {{ $labels.instance }} cannot read nginx stub_status.',
        proof: { series: [{ series: sel('nginx_up', NGINX), bad: '0x10', good: '1x10' }], evalAt: '5m', labels: NGINX },
      },
    ],
  };
}

export function siteRules(t: Thresholds): RuleGroup {
  return {
    name: 'ferry-sites',
    rules: [
      {
        alert: 'SiteDown',
        expr: 'probe_success{job="blackbox-http"} == 0',
        for: '2m',
        severity: 'critical',
        summary: '{{ $labels.instance }} is down',
        description:
          'The probe of {{ $labels.instance }} (stack {{ $labels.stack }}) fails: no answer, a TLS error or a status other than 2xx.',
        proof: {
          series: [{ series: sel('probe_success', SITE), bad: '0x10', good: '1x10' }],
          evalAt: '5m',
          labels: SITE,
        },
      },
      {
        alert: 'SiteServerErrors',
        expr: 'probe_http_status_code{job="blackbox-http"} >= 500',
        for: '5m',
        severity: 'critical',
        summary: '{{ $labels.instance }} answers with server errors',
        description:
          '{{ $labels.instance }} (stack {{ $labels.stack }}) has answered the probe with a 5xx status for 5 minutes.',
        proof: {
          series: [{ series: sel('probe_http_status_code', SITE), bad: '502x20', good: '200x20' }],
          evalAt: '10m',
          labels: SITE,
        },
      },
      {
        alert: 'SiteSlow',
        expr: `avg_over_time(probe_duration_seconds{job="blackbox-http"}[5m]) > ${t.probeSeconds}`,
        for: '5m',
        severity: 'warning',
        summary: '{{ $labels.instance }} is slow',
        description: `The probe of {{ $labels.instance }} has taken over ${t.probeSeconds} s on average for 5 minutes.`,
        proof: {
          series: [{ series: sel('probe_duration_seconds', SITE), bad: '3x20', good: '0.2x20' }],
          evalAt: '12m',
          labels: SITE,
        },
      },
      {
        alert: 'CertificateExpiring',
        expr: `(probe_ssl_earliest_cert_expiry{job="blackbox-http"} - time()) / 86400 < ${t.certificateDays}`,
        for: '10m',
        severity: 'warning',
        summary: 'The certificate of {{ $labels.instance }} expires soon',
        description: `The certificate {{ $labels.instance }} serves expires within ${t.certificateDays} days: renewal is failing.`,
        proof: {
          series: [{ series: sel('probe_ssl_earliest_cert_expiry', SITE), bad: '432000x30', good: '5184000x30' }],
          evalAt: '20m',
          labels: SITE,
        },
      },
    ],
  };
}
