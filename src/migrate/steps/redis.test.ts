import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePersistence, redisPassword } from './redis.js';

test("the password Redis requires, from the container's command or the environment its image documents", () => {
  assert.equal(redisPassword({ Cmd: ['redis-server', '--requirepass', 'a b$c'] }), 'a b$c', 'exec form: as written');
  assert.equal(
    redisPassword({ Cmd: ['sh', '-c', 'redis-server --requirepass ${REDIS_PW}'], Env: ['REDIS_PW=x=y'] }),
    'x=y',
    'shell form: expanded from the environment',
  );
  assert.equal(redisPassword({ Cmd: ['sh', '-c', "redis-server --requirepass 'lit $x'"] }), 'lit $x');
  assert.equal(redisPassword({ Env: ['REDIS_ARGS=--save 60 1 --requirepass stack-pw'] }), 'stack-pw');
  assert.equal(redisPassword({ Cmd: ['/opt/bitnami/scripts/redis/run.sh'], Env: ['REDIS_PASSWORD=bit-pw'] }), 'bit-pw');
  assert.equal(redisPassword({ Cmd: ['redis-server', '--save', '60', '1'], Env: ['PATH=/bin'] }), undefined);
  assert.equal(redisPassword({ Cmd: null, Env: null }), undefined);
});

test('INFO persistence: the save time, whether a save runs, how the last one ended', () => {
  assert.deepEqual(
    parsePersistence(
      '# Persistence\r\nrdb_changes_since_last_save:3\r\nrdb_bgsave_in_progress:1\r\nrdb_last_save_time:1700000000\r\nrdb_last_bgsave_status:ok\r\n',
    ),
    { lastSave: 1700000000, inProgress: true, status: 'ok', changesSinceSave: 3 },
  );
  assert.throws(() => parsePersistence('OK\n'), /no rdb_last_save_time/);
});
