import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretsIn } from './secret-places.js';

test('secrets by the key they are under, in mappings and in KEY=value lists, at any depth', () => {
  assert.deepEqual(
    secretsIn({
      services: {
        db: { environment: { POSTGRES_PASSWORD: 'pw-1', POSTGRES_USER: 'postgres', AUTH_ENABLED: 'true' } },
        app: { environment: ['API_TOKEN=tok-2', 'LOG_LEVEL=warning'], build: { args: { NPM_TOKEN: 'tok-3' } } },
        proxy: { labels: ['traefik.http.middlewares.a.basicauth.users=admin:$$apr1$$h4sh'] },
      },
      'x-common': { REDIS_PASSWORD: 123456 },
    }).sort(),
    ['123456', 'admin:$$apr1$$h4sh', 'pw-1', 'tok-2', 'tok-3'],
  );
});

test('passwords in URLs and credentials on command lines, as strings or lists of words', () => {
  assert.deepEqual(
    secretsIn({
      environment: { DATABASE_URL: 'postgres://app:url-pw@db/app' },
      command: 'redis-server --requirepass cmd-pw --appendonly yes',
      healthcheck: { test: ['CMD', 'redis-cli', '-a', 'hc-pw', 'ping'] },
      entrypoint: ['mysqld', '--user=mysql', 'mysql', '-pmy-pw'],
    }).sort(),
    ['cmd-pw', 'hc-pw', 'my-pw', 'url-pw'],
  );
});

test('ordinary values are not secrets: names, images, levels, paths, settings', () => {
  assert.deepEqual(
    secretsIn({
      POSTGRES_USER: 'postgres',
      POSTGRES_DB: 'app',
      LOG_LEVEL: 'warning',
      DATA_DIR: '/var/lib/postgresql/data',
      image: 'postgres:16',
      PASSWORD_FILE: '/run/secrets/db',
      REQUIRE_AUTH: 'yes',
      homepage: 'https://user@example.com/path',
    }),
    [],
  );
});

test('a reference as written (`${DB_PASSWORD}`) is not a secret; a literal beside it is', () => {
  assert.deepEqual(
    secretsIn({
      POSTGRES_PASSWORD: '${DB_PASSWORD}',
      command: 'redis-server --requirepass $REDIS_PASSWORD',
      DATABASE_URL: 'postgres://${U}:${P}@db/app',
      API_TOKEN: 'tok-${SUFFIX}',
    }),
    ['tok-${SUFFIX}'],
  );
});
