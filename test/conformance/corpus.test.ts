/**
 * Conformance: every top-level file of the shared corpus of real compose files (and the
 * zabbix main file, whose `extends` reach three other files) loads as Compose would, or
 * fails naming exactly the required variables it lacks and where they are used.
 * Loaded with an empty environment, so results do not depend on the machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadComposeProject } from '../../src/compose/load.js';

const corpus = fileURLToPath(new URL('../../../shared/fixtures/compose-corpus/', import.meta.url));

/**
 * Variables each file cannot do without, with the lines they are used on, read off the
 * files by hand: required ones (`${X:?msg}`), and plain ones whose empty value Compose
 * would refuse (`retries: $HEALTHCHECK_RETRIES`, `interval: "$HEALTHCHECK_INTERVAL"`, `${DATA_PATH}:/data`).
 */
const missing: Record<string, Record<string, number[]>> = {
  'documenso__documenso__docker__production__compose.yml': {
    POSTGRES_USER: [7],
    POSTGRES_PASSWORD: [8],
    POSTGRES_DB: [9],
    NEXTAUTH_SECRET: [25],
    NEXT_PRIVATE_ENCRYPTION_KEY: [26],
    NEXT_PRIVATE_ENCRYPTION_SECONDARY_KEY: [27],
    NEXT_PUBLIC_WEBAPP_URL: [30],
    NEXT_PRIVATE_DATABASE_URL: [32],
    NEXT_PRIVATE_SMTP_TRANSPORT: [41],
    NEXT_PRIVATE_SMTP_FROM_NAME: [50],
    NEXT_PRIVATE_SMTP_FROM_ADDRESS: [51],
  },
  'getsentry__self-hosted__docker-compose.yml': {
    HEALTHCHECK_INTERVAL: [15],
    HEALTHCHECK_TIMEOUT: [16],
    HEALTHCHECK_RETRIES: [17],
    HEALTHCHECK_START_PERIOD: [18],
    HEALTHCHECK_FILE_INTERVAL: [36],
    HEALTHCHECK_FILE_TIMEOUT: [37],
    HEALTHCHECK_FILE_RETRIES: [38],
    HEALTHCHECK_FILE_START_PERIOD: [39],
  },
  'mattermost__docker__docker-compose.yml': {
    POSTGRES_DATA_PATH: [14],
    MATTERMOST_CONFIG_PATH: [36],
    MATTERMOST_DATA_PATH: [37],
    MATTERMOST_LOGS_PATH: [38],
    MATTERMOST_PLUGINS_PATH: [39],
    MATTERMOST_CLIENT_PLUGINS_PATH: [40],
    MATTERMOST_BLEVE_INDEXES_PATH: [41],
  },
  'supabase__supabase__docker__docker-compose.yml': {
    DOCKER_SOCKET_LOCATION: [529],
  },
  'goauthentik__authentik__docker-compose.yml': {
    PG_PASS: [16],
    AUTHENTIK_SECRET_KEY: [38, 66],
  },
};

const files = [
  ...readdirSync(corpus).filter((f) => /\.ya?ml$/.test(f)),
  'zabbix__zabbix-docker/docker-compose_v3_alpine_mysql_latest.yaml',
].sort();

/** Variables and their lines, in an order that does not depend on the order findings came in. */
function canonical(m: Record<string, number[]>): string {
  return JSON.stringify(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
}

test('compose corpus conformance', () => {
  let loaded = 0;
  let failedAsExpected = 0;
  const problems: string[] = [];
  for (const name of files) {
    const r = loadComposeProject({ files: [join(corpus, name)], cwd: corpus, env: {} });
    const errors = r.findings.filter((f) => f.severity === 'error');
    const expected = missing[name];
    if (expected) {
      const got: Record<string, number[]> = {};
      for (const f of errors) {
        const m = /^(?:required )?variable (\w+) is (?:missing a value|not set)/.exec(f.message);
        if (f.code !== 'missing-variable' || !m) {
          problems.push(`${name}: unexpected ${f.code}: ${f.message}`);
          continue;
        }
        const lines = (got[m[1]!] ??= []);
        if (!lines.includes(f.where.line!)) lines.push(f.where.line!);
        assert.ok(f.where.path && f.where.path.length > 0, `${name}: ${m[1]} has a key path`);
      }
      for (const v of Object.keys(got)) got[v]!.sort((a, b) => a - b);
      if (r.project === undefined && canonical(got) === canonical(expected)) failedAsExpected++;
      else
        problems.push(
          `${name}: expected missing ${JSON.stringify(expected)}, got ${JSON.stringify(got)} (project ${r.project ? 'built' : 'not built'})`,
        );
      continue;
    }
    // Env, secret and config files are not part of the corpus: a missing one is reported (as Compose
    // does), and nothing else may fail.
    const other = errors.filter((f) => !(f.code === 'missing-file' && /^(env file|secret|config) /.test(f.message)));
    if (r.project && other.length === 0 && r.project.services.length > 0) loaded++;
    else
      problems.push(
        `${name}: ${other.map((f) => `${f.code} ${f.message} at ${f.where.file}:${f.where.line}`).join('; ') || 'no services'}`,
      );
  }
  console.log(
    `compose corpus conformance: ${loaded} loaded, ${failedAsExpected} failed naming exactly their missing variables, of ${files.length} files`,
  );
  assert.deepEqual(problems, []);
  assert.equal(loaded + failedAsExpected, files.length);
});
