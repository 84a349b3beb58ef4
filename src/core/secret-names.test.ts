import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isCredentialName, urlPasswords } from './secret-names.js';
import { commandCredentials } from './command-credentials.js';
import { commandSetting, confSetting } from '../check/postgres-settings.js';

describe('credential names', () => {
  it('recognizes credential keys and flags', () => {
    for (const k of [
      'POSTGRES_PASSWORD',
      'JWT_SECRET',
      'SECRET_KEY_BASE',
      'AWS_SECRET_ACCESS_KEY',
      'MYSQL_PWD',
      'PGPASSWORD',
      'RABBITMQ_DEFAULT_PASS',
      'GITHUB_TOKEN',
      'stripeApiKey',
      'N8N_ENCRYPTION_KEY',
      'REDIS_AUTH',
      'GOOGLE_CREDENTIALS',
      'requirepass',
      '--basic_auth',
      'private-key',
      'STRIPE_KEY',
      'LICENSE_KEY',
      'SENTRY_DSN',
      'SLACK_WEBHOOK_URL',
      'traefik.http.middlewares.admin.basicauth.users',
      'WORDPRESS_AUTH_SALT',
    ]) {
      assert.equal(isCredentialName(k), true, k);
    }
  });

  it('leaves out metadata about credentials', () => {
    for (const k of [
      'POSTGRES_PASSWORD_FILE',
      'PASSWORD_MIN_LENGTH',
      'AWS_ACCESS_KEY_ID',
      'POSTGRES_HOST_AUTH_METHOD',
      'AUTH_URL',
      'TOKEN_TTL',
      'AUTHOR',
      'OAUTH_CLIENT_ID',
      'PASSWORD_HASH',
      'KEYCLOAK_USER',
      'MYSQL_RANDOM_ROOT_PASSWORD',
      'bypass',
      'POSTGRES_USER',
      'POSTGRES_DB',
      'LOG_LEVEL',
      'KEY_PREFIX',
      'WEBHOOK_TIMEOUT',
    ]) {
      assert.equal(isCredentialName(k), false, k);
    }
  });

  it('finds passwords in URLs, not users or hosts', () => {
    assert.deepEqual(urlPasswords('postgres://app:s3cr@t@db/app'), ['s3cr']);
    assert.deepEqual(urlPasswords('redis://:pw@cache:6379/0 and amqp://u:p2@mq//'), ['pw', 'p2']);
    assert.deepEqual(urlPasswords('https://example.com:8443/path http://user@host'), []);
  });

  it('finds credentials on command lines by flag, assignment and program', () => {
    const labels = (ws: string[]) => commandCredentials(ws).map((c) => c.label);
    assert.deepEqual(labels(['--password=x', '--token', 'y', '--auth', '--bind_ip_all', '--requirepass', '--x']), [
      '--password=',
      '--token',
    ]);
    assert.deepEqual(labels(['MYSQL_PWD=x', 'mysql', '-uroot', '-px', '-p', '3306']), ['MYSQL_PWD=', 'mysql -p']);
    assert.deepEqual(labels(['redis-cli', '-h', 'cache', '-a', 'x', 'ping']), ['redis-cli -a']);
    assert.deepEqual(labels(['psql', '-p', '5432', '--auth=none', 'AUTH_ENABLED=true']), []);
  });
});

describe('Postgres settings', () => {
  it('reads -c and -- forms from a command, the last one winning', () => {
    assert.equal(commandSetting(['postgres', '-c', 'max_connections=200'], 'max_connections'), '200');
    assert.equal(commandSetting('postgres --max-connections=300 -cmax_connections=400', 'max_connections'), '400');
    assert.equal(commandSetting(['postgres', '-c', 'max_connections = 250'], 'max_connections'), '250');
    assert.equal(commandSetting(['postgres', '-c', 'shared_buffers=1GB'], 'max_connections'), undefined);
  });

  it('reads postgresql.conf, ignoring comments', () => {
    assert.equal(
      confSetting("#max_connections = 10\nmax_connections = 200 # more\nmax_connections='300'\n", 'max_connections'),
      '300',
    );
    assert.equal(confSetting('shared_buffers = 1GB\n', 'max_connections'), undefined);
  });
});

describe('URL passwords in long text', () => {
  it('are found in one pass, whatever precedes them', () => {
    const long = `${'a'.repeat(200_000)}://u:p-1@h ${'x:'.repeat(100_000)}`;
    assert.deepEqual(urlPasswords(long), ['p-1']);
    assert.deepEqual(urlPasswords('1+2://u:p@h -://u:q@h ://u:r@h'), []);
  });
});
