/**
 * What Ferry knows about well-known images without pulling them: which ones are not
 * public entry points (so publishing them on every interface is a finding), where the
 * official image keeps its data (so it must be on a volume), and which ones are Postgres.
 * Images are matched on the last component of their repository (`bitnami/redis` → `redis`).
 */
import type { Service } from '../model/compose.js';
import { words } from './common.js';
import { parseImage, type ImageRef } from './image-ref.js';

export type ImageKind = 'datastore' | 'broker' | 'admin';

export interface KnownImage {
  names: string[];
  kind: ImageKind;
  /** Shown in messages. */
  label: string;
  /** Container ports that must not be public; undefined = every port of the image. */
  privatePorts?: number[];
  /** Data directories of the official image (one of them on a volume is enough), or how to find them. */
  dataDirs?: string[] | ((s: Service, ref: ImageRef) => string[] | undefined);
}

/** Postgres keeps data in $PGDATA; images 18+ moved the default to /var/lib/postgresql/<major>/docker. */
function postgresDirs(s: Service, ref: ImageRef): string[] {
  const pgdata = s.environment['PGDATA'];
  if (pgdata) return [pgdata];
  const major = Number(/^(\d+)/.exec(ref.tag ?? '')?.[1] ?? 0);
  return [major >= 18 ? `/var/lib/postgresql/${major}/docker` : '/var/lib/postgresql/data'];
}

/** MinIO's data directory is the first argument after `server` in its command (`server /data`). */
function minioDirs(s: Service): string[] | undefined {
  const w = words(s.command);
  const i = w.indexOf('server');
  const dir = w.slice(i + 1).find((x) => !x.startsWith('-'));
  if (i < 0 || !dir || !dir.startsWith('/') || dir.includes('{')) return undefined;
  return [dir];
}

export const KNOWN_IMAGES: KnownImage[] = [
  // PostgreSQL and images built on it (PostGIS, TimescaleDB, pgvector, Supabase, Bitnami).
  {
    names: ['postgres', 'postgresql', 'postgis', 'timescaledb', 'pgvector'],
    kind: 'datastore',
    label: 'PostgreSQL',
    dataDirs: postgresDirs,
  },
  // TimescaleDB's HA image keeps PGDATA under the postgres user's home.
  { names: ['timescaledb-ha'], kind: 'datastore', label: 'PostgreSQL', dataDirs: ['/home/postgres/pgdata'] },
  // MySQL, MariaDB and Percona share the /var/lib/mysql layout.
  {
    names: ['mysql', 'mariadb', 'percona', 'percona-server'],
    kind: 'datastore',
    label: 'MySQL',
    dataDirs: ['/var/lib/mysql'],
  },
  // MongoDB keeps its database files in /data/db.
  {
    names: ['mongo', 'mongodb', 'mongodb-community-server'],
    kind: 'datastore',
    label: 'MongoDB',
    dataDirs: ['/data/db'],
  },
  // Redis and its forks write RDB/AOF files to /data.
  {
    names: ['redis', 'redis-stack', 'redis-stack-server', 'valkey', 'keydb'],
    kind: 'datastore',
    label: 'Redis',
    dataDirs: ['/data'],
  },
  // memcached is memory only: nothing to keep, but never public.
  { names: ['memcached'], kind: 'datastore', label: 'memcached' },
  // Elasticsearch and OpenSearch keep indices under their install directory.
  { names: ['elasticsearch'], kind: 'datastore', label: 'Elasticsearch', dataDirs: ['/usr/share/elasticsearch/data'] },
  { names: ['opensearch'], kind: 'datastore', label: 'OpenSearch', dataDirs: ['/usr/share/opensearch/data'] },
  // ClickHouse server data.
  {
    names: ['clickhouse-server', 'clickhouse'],
    kind: 'datastore',
    label: 'ClickHouse',
    dataDirs: ['/var/lib/clickhouse'],
  },
  // InfluxDB 2 uses /var/lib/influxdb2, 1.x /var/lib/influxdb, 3 /var/lib/influxdb3.
  {
    names: ['influxdb'],
    kind: 'datastore',
    label: 'InfluxDB',
    dataDirs: ['/var/lib/influxdb2', '/var/lib/influxdb', '/var/lib/influxdb3'],
  },
  // Cassandra, CouchDB and Neo4j official layouts.
  { names: ['cassandra'], kind: 'datastore', label: 'Cassandra', dataDirs: ['/var/lib/cassandra'] },
  { names: ['couchdb'], kind: 'datastore', label: 'CouchDB', dataDirs: ['/opt/couchdb/data'] },
  { names: ['neo4j'], kind: 'datastore', label: 'Neo4j', dataDirs: ['/data'] },
  // Vector databases.
  { names: ['qdrant'], kind: 'datastore', label: 'Qdrant', dataDirs: ['/qdrant/storage'] },
  { names: ['weaviate'], kind: 'datastore', label: 'Weaviate', dataDirs: ['/var/lib/weaviate'] },
  { names: ['milvus'], kind: 'datastore', label: 'Milvus', dataDirs: ['/var/lib/milvus'] },
  // Chroma 1.x keeps data in /data, older images in /chroma/chroma.
  { names: ['chroma'], kind: 'datastore', label: 'Chroma', dataDirs: ['/data', '/chroma/chroma'] },
  // MinIO: S3 API 9000 and console 9001 belong behind a proxy; data dir from `server /data`.
  { names: ['minio'], kind: 'datastore', label: 'MinIO', privatePorts: [9000, 9001], dataDirs: minioDirs },
  // Meilisearch is usually served to browsers through a proxy: only its data matters here.
  { names: ['meilisearch'], kind: 'datastore', label: 'Meilisearch', privatePorts: [], dataDirs: ['/meili_data'] },
  // RabbitMQ: AMQP 5672 and management UI 15672 (every port); state in /var/lib/rabbitmq.
  { names: ['rabbitmq'], kind: 'broker', label: 'RabbitMQ', dataDirs: ['/var/lib/rabbitmq'] },
  // Kafka (Apache, Confluent, Bitnami): data paths differ by publisher, so only exposure is checked.
  { names: ['kafka', 'cp-kafka'], kind: 'broker', label: 'Kafka' },
  // NATS client, cluster and monitoring ports.
  { names: ['nats'], kind: 'broker', label: 'NATS' },
  // ZooKeeper keeps snapshots in /data.
  { names: ['zookeeper', 'cp-zookeeper'], kind: 'broker', label: 'ZooKeeper', dataDirs: ['/data'] },
  // Mosquitto's plain MQTT port (websockets on other ports may be meant to be public).
  { names: ['eclipse-mosquitto', 'mosquitto'], kind: 'broker', label: 'Mosquitto MQTT', privatePorts: [1883] },
  // Grafana's web UI.
  { names: ['grafana', 'grafana-oss', 'grafana-enterprise'], kind: 'admin', label: 'Grafana', privatePorts: [3000] },
  // Prometheus, Alertmanager and exporters: no authentication by default.
  { names: ['prometheus'], kind: 'admin', label: 'Prometheus', privatePorts: [9090] },
  { names: ['alertmanager'], kind: 'admin', label: 'Alertmanager', privatePorts: [9093] },
  { names: ['node-exporter'], kind: 'admin', label: 'node-exporter', privatePorts: [9100] },
  { names: ['cadvisor'], kind: 'admin', label: 'cAdvisor' },
  // Loki's push and query API.
  { names: ['loki'], kind: 'admin', label: 'Loki', privatePorts: [3100] },
  // Container and database admin UIs: full control of the server or the data.
  { names: ['portainer', 'portainer-ce', 'portainer-ee'], kind: 'admin', label: 'Portainer' },
  { names: ['pgadmin4', 'pgadmin'], kind: 'admin', label: 'pgAdmin' },
  { names: ['adminer'], kind: 'admin', label: 'Adminer' },
  // Celery Flower.
  { names: ['flower'], kind: 'admin', label: 'Flower', privatePorts: [5555] },
  // Kibana.
  { names: ['kibana'], kind: 'admin', label: 'Kibana', privatePorts: [5601] },
  // Traefik's dashboard/API port (80/443 are the public entry points).
  { names: ['traefik'], kind: 'admin', label: 'Traefik dashboard', privatePorts: [8080] },
  // Metabase: a BI tool with database credentials inside.
  { names: ['metabase'], kind: 'admin', label: 'Metabase' },
  // Mail catchers: SMTP and web UI show every mail the app sends.
  { names: ['mailhog', 'mailpit'], kind: 'admin', label: 'mail catcher' },
];

/** Container ports that belong to datastores and brokers whatever the image. */
export const PRIVATE_PORTS: Record<number, string> = {
  5432: 'PostgreSQL', // postgres
  3306: 'MySQL', // mysql, mariadb
  33060: 'MySQL X protocol', // mysqlx
  1433: 'SQL Server', // mssql
  6379: 'Redis', // redis, valkey, keydb
  27017: 'MongoDB', // mongod
  9200: 'Elasticsearch', // HTTP API
  9300: 'Elasticsearch transport', // node-to-node
  11211: 'memcached', // memcached
  5672: 'AMQP', // rabbitmq
  15672: 'RabbitMQ management', // rabbitmq-management
  9092: 'Kafka', // kafka broker
  2181: 'ZooKeeper', // zookeeper client port
  8086: 'InfluxDB', // influxdb HTTP API
  6333: 'Qdrant', // qdrant HTTP
  6334: 'Qdrant gRPC', // qdrant gRPC
  5984: 'CouchDB', // couchdb
  7687: 'Neo4j Bolt', // neo4j bolt
  9042: 'Cassandra', // cassandra CQL
  8123: 'ClickHouse HTTP', // clickhouse
  19530: 'Milvus', // milvus
  2379: 'etcd', // etcd client
};

export function knownImage(image: string | undefined): KnownImage | undefined {
  if (!image) return undefined;
  const { name } = parseImage(image);
  return KNOWN_IMAGES.find((k) => k.names.includes(name));
}

/** Why a container port range should not be public (a label), or undefined. */
export function privatePortLabel(image: string | undefined, target: number, targetEnd: number): string | undefined {
  const k = knownImage(image);
  const inRange = (p: number): boolean => p >= target && p <= targetEnd;
  if (k && (k.privatePorts === undefined || k.privatePorts.some(inRange))) return k.label;
  for (let p = target; p <= targetEnd && p - target < 65536; p++) {
    const label = PRIVATE_PORTS[p];
    if (label) return label;
  }
  return undefined;
}

/**
 * Data directories of a stateful image, or undefined when unknown. Repackaged images
 * (Bitnami) keep data elsewhere and are not checked.
 */
export function dataDirs(s: Service): { label: string; dirs: string[] } | undefined {
  const k = knownImage(s.image);
  if (!k || !k.dataDirs || !s.image) return undefined;
  const ref = parseImage(s.image);
  if (ref.namespace === 'bitnami') return undefined;
  const dirs = typeof k.dataDirs === 'function' ? k.dataDirs(s, ref) : k.dataDirs;
  return dirs && dirs.length > 0 ? { label: k.label, dirs } : undefined;
}

export function isPostgresImage(image: string | undefined): boolean {
  return knownImage(image)?.label === 'PostgreSQL';
}
