import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import { isBindSource, normalizeTmpfs, normalizeVolumes } from './volumes.js';

process.env.HOME = '/home/tester';
const WD = '/srv/app';
const ctx = (): Ctx => ({ service: 'db', findings: [] });

function one(entry: unknown) {
  const c = ctx();
  const mounts = normalizeVolumes([entry], WD, c);
  assert.deepEqual(c.findings, [], `no findings for ${JSON.stringify(entry)}`);
  assert.equal(mounts.length, 1);
  return mounts[0];
}

test('short syntax: named volumes', () => {
  assert.deepEqual(one('data:/var/lib/data'), {
    type: 'volume',
    source: 'data',
    target: '/var/lib/data',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('data:/var/lib/data:ro'), {
    type: 'volume',
    source: 'data',
    target: '/var/lib/data',
    readOnly: true,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('data:/var/lib/data:nocopy'), {
    type: 'volume',
    source: 'data',
    target: '/var/lib/data',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
});

test('short syntax: relative binds resolve against the working directory', () => {
  assert.deepEqual(one('./rel:/path'), {
    type: 'bind',
    source: '/srv/app/rel',
    target: '/path',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('../up/x:/path:ro'), {
    type: 'bind',
    source: '/srv/up/x',
    target: '/path',
    readOnly: true,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('.:/code'), {
    type: 'bind',
    source: '/srv/app',
    target: '/code',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
});

test('short syntax: absolute binds with options', () => {
  assert.deepEqual(one('/abs:/path:rw,z'), {
    type: 'bind',
    source: '/abs',
    target: '/path',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('/abs:/path:z,ro'), {
    type: 'bind',
    source: '/abs',
    target: '/path',
    readOnly: true,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('/var/run/docker.sock:/var/run/docker.sock'), {
    type: 'bind',
    source: '/var/run/docker.sock',
    target: '/var/run/docker.sock',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
});

test('short syntax: ~ is the home directory', () => {
  assert.deepEqual(one('~/x:/y'), {
    type: 'bind',
    source: '/home/tester/x',
    target: '/y',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one('~:/home'), {
    type: 'bind',
    source: '/home/tester',
    target: '/home',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
});

test('short syntax: a lone path is an anonymous volume', () => {
  assert.deepEqual(one('/path'), { type: 'volume', target: '/path', readOnly: false, index: 0, key: 'volumes' });
  assert.deepEqual(one('/p'), { type: 'volume', target: '/p', readOnly: false, index: 0, key: 'volumes' });
});

test('short syntax: Windows drive paths are binds, kept as written', () => {
  assert.deepEqual(one('C:\\data:/data'), {
    type: 'bind',
    source: 'C:\\data',
    target: '/data',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.equal(isBindSource('\\\\server\\share'), true);
  assert.equal(isBindSource('data'), false);
});

test('long syntax', () => {
  assert.deepEqual(
    one({ type: 'bind', source: './conf', target: '/etc/conf', read_only: true, bind: { selinux: 'z' } }),
    {
      type: 'bind',
      source: '/srv/app/conf',
      target: '/etc/conf',
      readOnly: true,
      index: 0,
      key: 'volumes',
    },
  );
  assert.deepEqual(one({ type: 'volume', source: 'db', target: '/data', volume: { nocopy: true } }), {
    type: 'volume',
    source: 'db',
    target: '/data',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one({ type: 'volume', target: '/anon' }), {
    type: 'volume',
    target: '/anon',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one({ type: 'tmpfs', target: '/tmp', tmpfs: { size: 1000 } }), {
    type: 'tmpfs',
    target: '/tmp',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one({ type: 'bind', source: '/etc/ssl', target: '/ssl', read_only: 'true' }), {
    type: 'bind',
    source: '/etc/ssl',
    target: '/ssl',
    readOnly: true,
    index: 0,
    key: 'volumes',
  });
  assert.deepEqual(one({ type: 'npipe', source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine' }), {
    type: 'npipe',
    source: '\\\\.\\pipe\\docker_engine',
    target: '\\\\.\\pipe\\docker_engine',
    readOnly: false,
    index: 0,
    key: 'volumes',
  });
});

test('indexes follow the list, also after a malformed entry', () => {
  const c = ctx();
  const mounts = normalizeVolumes(['data:relative', 'data:/a', './b:/b'], WD, c);
  assert.deepEqual(
    mounts.map((m) => [m.index, m.target]),
    [
      [1, '/a'],
      [2, '/b'],
    ],
  );
  assert.deepEqual(c.findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'volume "data:relative" is malformed: container path "relative" is not absolute',
      where: { path: 'services/db/volumes/0' },
      hint: 'Write a volume as SOURCE:TARGET[:MODE] (e.g. "./data:/var/lib/data:ro" or "dbdata:/var/lib/postgresql/data"), or just TARGET for an anonymous volume; the target is an absolute path in the container.',
      service: 'db',
    },
  ]);
});

function reason(entry: unknown): string {
  const c = ctx();
  assert.deepEqual(normalizeVolumes([entry], WD, c), []);
  assert.equal(c.findings.length, 1, `one finding for ${JSON.stringify(entry)}`);
  assert.equal(c.findings[0]!.where.path, 'services/db/volumes/0');
  return c.findings[0]!.message;
}

test('malformed volumes', () => {
  assert.equal(reason(''), 'volume "" is malformed: it is empty');
  assert.equal(
    reason('data:/x:ro:extra'),
    'volume "data:/x:ro:extra" is malformed: it has too many ":"-separated sections',
  );
  assert.equal(reason('data::/x'), 'volume "data::/x" is malformed: it has an empty section between colons');
  assert.equal(reason('relative'), 'volume "relative" is malformed: container path "relative" is not absolute');
  assert.equal(reason({ target: '/x' }), 'long-syntax volume is malformed: type is missing');
  assert.equal(
    reason({ type: 'disk', target: '/x' }),
    'long-syntax volume is malformed: type "disk" is not one of volume, bind, tmpfs, npipe, cluster, image',
  );
  assert.equal(reason({ type: 'volume', source: 'x' }), 'long-syntax volume is malformed: target is missing');
  assert.equal(reason({ type: 'volume', target: 'x' }), 'long-syntax volume is malformed: target "x" is not absolute');
  assert.equal(reason({ type: 'bind', target: '/x' }), 'long-syntax volume is malformed: a bind mount has no source');
  assert.equal(
    reason({ type: 'bind', source: './x', target: '/x', read_only: 'maybe' }),
    'long-syntax volume is malformed: read_only "maybe" is not a boolean',
  );
  assert.equal(
    reason({ type: 'volume', source: 5, target: '/x' }),
    'long-syntax volume is malformed: source is an integer',
  );
  assert.equal(reason(42), 'volume is an integer, not a string or mapping');
});

test('volumes that are not a list', () => {
  const c = ctx();
  assert.deepEqual(normalizeVolumes({ data: '/x' }, WD, c), []);
  assert.equal(c.findings[0]!.message, 'volumes is a mapping, not a list');
});

test('tmpfs key: a string or a list, options after ":"', () => {
  const c = ctx();
  assert.deepEqual(normalizeTmpfs('/run', c), [
    { type: 'tmpfs', target: '/run', readOnly: false, index: 0, key: 'tmpfs' },
  ]);
  assert.deepEqual(normalizeTmpfs(['/tmp', '/run:size=64m,ro', '/cache:rw,noexec'], c), [
    { type: 'tmpfs', target: '/tmp', readOnly: false, index: 0, key: 'tmpfs' },
    { type: 'tmpfs', target: '/run', readOnly: true, index: 1, key: 'tmpfs' },
    { type: 'tmpfs', target: '/cache', readOnly: false, index: 2, key: 'tmpfs' },
  ]);
  assert.deepEqual(c.findings, []);
  assert.deepEqual(normalizeTmpfs(undefined, c), []);
});

test('malformed tmpfs', () => {
  const c = ctx();
  assert.deepEqual(normalizeTmpfs(['/ok', 'tmp'], c), [
    { type: 'tmpfs', target: '/ok', readOnly: false, index: 0, key: 'tmpfs' },
  ]);
  assert.deepEqual(normalizeTmpfs({ size: 1 }, c), []);
  assert.deepEqual(
    c.findings.map((f) => [f.where.path, f.message]),
    [
      ['services/db/tmpfs/1', 'tmpfs path "tmp" is not absolute'],
      ['services/db/tmpfs', 'tmpfs is a mapping, not a path or a list of paths'],
    ],
  );
});
