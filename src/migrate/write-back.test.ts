import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import { backChannel, copyBackCommand, refuseUnmatched, rowsPhrase } from './write-back.js';
import { d, migration } from './steps/db-fixture.js';

test('the back channel goes from the target to the source, a key of its own', () => {
  const back = backChannel(migration());
  assert.deepEqual(
    [back.stack, back.source.name, back.target.name, back.keyPath],
    ['shop-back', 'new', 'old', '/root/.ssh/ferry-migrate-shop-back'],
  );
});

test('copy back: one transaction on the source deletes its rows of the tables, then takes the target rows', () => {
  const line = render(
    copyBackCommand(backChannel(migration()), 'shop-db-1', d, ['public.orders', 'public."Odd"'], 'shop_db_1'),
  );
  assert.equal(
    line,
    `bash -o pipefail -c '{ printf '\\''%s\\n'\\'' '\\''BEGIN;\nSET session_replication_role = replica;\nDELETE FROM public.orders;\nDELETE FROM public."Odd";'\\''; ` +
      `{ docker exec shop-db-1 pg_dump -U demo -d demo --data-only --no-owner --no-privileges -t public.orders -t '\\''public."Odd"'\\'' | sed '\\''1,/^COPY /{/^SET transaction_timeout = /d}'\\''; }; ` +
      `printf '\\''COMMIT;\\n'\\''; } | ssh -i /root/.ssh/ferry-migrate-shop-back -o UserKnownHostsFile=/root/.ssh/ferry-migrate-shop-back.known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr -p 22 root@10.0.0.1 '\\''docker exec -i shop_db_1 psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U demo -d demo'\\'''`,
  );
});

test("copy back from the Postgres installed on the target: its pg_dump as the server's superuser acting as the role", () => {
  const line = render(
    copyBackCommand(
      backChannel(migration()),
      { installed: { maxConnections: 100, cluster: 'main', port: 5432, superuser: 'postgres', tune: false } },
      d,
      ['public.orders'],
      'shop_db_1',
    ),
  );
  assert.match(
    line,
    /\{ runuser -u postgres -- env -C \/ PGPORT=5432 '\\''PGOPTIONS=-c role=demo'\\'' pg_dump -d demo --data-only --no-owner --no-privileges -t public\.orders \| sed /,
  );
  assert.match(
    line,
    /'\\''docker exec -i shop_db_1 psql -X -q -v ON_ERROR_STOP=1 -o \/dev\/null -U demo -d demo'\\'''$/,
  );
});

test('a table on one side only cannot be carried back: refused with the rows on each side', () => {
  const m = migration();
  const x = {
    service: 'db',
    db: 'demo',
    tables: [],
    unmatched: [{ name: 'public.audit', rows_source: -1, rows_target: 12, checksum_match: false }],
    sequences: [],
  };
  assert.throws(
    () => refuseUnmatched(m, x),
    (e: unknown) =>
      e instanceof StepError &&
      e.code === 'write-back-impossible' &&
      e.message ===
        'new: database demo cannot be carried back to old: its tables differ (public.audit 12 on new, missing on old)' &&
      /--discard-target-writes/.test(e.hint),
  );
  assert.doesNotThrow(() => refuseUnmatched(m, { ...x, unmatched: [] }));
  assert.equal(
    rowsPhrase({ name: 't', rows_source: 3, rows_target: 5, checksum_match: false }, 'a', 'b'),
    't 5 on a, 3 on b',
  );
});
