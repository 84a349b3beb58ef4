import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import { normalizeResources, parseCpus, parseMemory } from './resources.js';

const ctx = (): Ctx => ({ service: 'app', findings: [] });
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

test('parseMemory: bytes as a number or a string', () => {
  assert.equal(parseMemory(1024), 1024);
  assert.equal(parseMemory(0), 0);
  assert.equal(parseMemory('1024'), 1024);
  assert.equal(parseMemory('1024b'), 1024);
  assert.equal(parseMemory('1024B'), 1024);
});

test('parseMemory: units are powers of 1024, any case, optional trailing b', () => {
  assert.equal(parseMemory('512m'), 512 * MiB);
  assert.equal(parseMemory('512M'), 512 * MiB);
  assert.equal(parseMemory('512mb'), 512 * MiB);
  assert.equal(parseMemory('2g'), 2 * GiB);
  assert.equal(parseMemory('1.5GB'), 1610612736);
  assert.equal(parseMemory('1.5gb'), 1610612736);
  assert.equal(parseMemory('100k'), 102400);
  assert.equal(parseMemory('100K'), 102400);
  assert.equal(parseMemory('1t'), 1024 ** 4);
  assert.equal(parseMemory('1p'), 1024 ** 5);
});

test('parseMemory: what go-units RAMInBytes also accepts', () => {
  assert.equal(parseMemory('512Mi'), 512 * MiB);
  assert.equal(parseMemory('1GiB'), GiB);
  assert.equal(parseMemory('512 m'), 512 * MiB);
  assert.equal(parseMemory('0.5k'), 512);
  assert.equal(parseMemory('1.0001k'), 1024);
});

test('parseMemory: malformed sizes', () => {
  for (const bad of [
    '12 parsecs',
    '',
    'm',
    '-1',
    '1.2.3m',
    '1x',
    '1  m',
    ' 1m',
    '1e3',
    -5,
    1.5,
    NaN,
    null,
    undefined,
    true,
    {},
    [],
  ]) {
    assert.equal(parseMemory(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
});

test('parseCpus', () => {
  assert.equal(parseCpus(0.5), 0.5);
  assert.equal(parseCpus(2), 2);
  assert.equal(parseCpus('0.5'), 0.5);
  assert.equal(parseCpus('2'), 2);
  assert.equal(parseCpus('.5'), 0.5);
  assert.equal(parseCpus('1.'), 1);
  assert.equal(parseCpus('1e1'), 10);
  assert.equal(parseCpus('0'), 0);
  for (const bad of ['abc', '-1', -1, '', ' 1', 'Inf', 'NaN', NaN, Infinity, '1,5', null, true, []]) {
    assert.equal(parseCpus(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
});

test('deploy.resources limits and reservations', () => {
  const c = ctx();
  const raw = {
    deploy: { resources: { limits: { cpus: '0.70', memory: '1G' }, reservations: { cpus: '0.5', memory: '512M' } } },
  };
  assert.deepEqual(normalizeResources(raw, c), {
    memoryLimit: GiB,
    memoryReservation: 512 * MiB,
    cpuLimit: 0.7,
    cpuReservation: 0.5,
  });
  assert.deepEqual(c.findings, []);
});

test('older keys when deploy.resources is absent', () => {
  const c = ctx();
  assert.deepEqual(normalizeResources({ mem_limit: '2g', mem_reservation: 268435456, cpus: 1.5 }, c), {
    memoryLimit: 2 * GiB,
    memoryReservation: 256 * MiB,
    cpuLimit: 1.5,
  });
  assert.deepEqual(normalizeResources({ deploy: { replicas: 2 } }, c), {});
  assert.deepEqual(normalizeResources({}, c), {});
  assert.deepEqual(c.findings, []);
});

test('equal values in both places are fine', () => {
  const c = ctx();
  const raw = { mem_limit: '1g', cpus: '2', deploy: { resources: { limits: { memory: '1024m', cpus: 2 } } } };
  assert.deepEqual(normalizeResources(raw, c), { memoryLimit: GiB, cpuLimit: 2 });
  assert.deepEqual(c.findings, []);
});

test('distinct values: deploy.resources wins, and Compose would refuse the service', () => {
  const c = ctx();
  const raw = {
    mem_limit: '1g',
    mem_reservation: '1g',
    cpus: 4,
    deploy: { resources: { limits: { memory: '512m', cpus: '1' }, reservations: { memory: '256m' } } },
  };
  assert.deepEqual(normalizeResources(raw, c), { memoryLimit: 512 * MiB, memoryReservation: 256 * MiB, cpuLimit: 1 });
  assert.deepEqual(
    c.findings.map((f) => [f.code, f.severity, f.where.path, f.message]),
    [
      [
        'schema',
        'error',
        'services/app/mem_limit',
        'mem_limit (1073741824) and deploy.resources.limits.memory (536870912) differ',
      ],
      [
        'schema',
        'error',
        'services/app/mem_reservation',
        'mem_reservation (1073741824) and deploy.resources.reservations.memory (268435456) differ',
      ],
      ['schema', 'error', 'services/app/cpus', 'cpus (4) and deploy.resources.limits.cpus (1) differ'],
    ],
  );
});

test('an unset deploy value counts as different once the deploy block exists', () => {
  const c = ctx();
  assert.deepEqual(normalizeResources({ mem_limit: '1g', deploy: { resources: { limits: { cpus: 1 } } } }, c), {
    memoryLimit: GiB,
    cpuLimit: 1,
  });
  assert.equal(c.findings.length, 1);
  assert.equal(c.findings[0]!.message, 'mem_limit (1073741824) and deploy.resources.limits.memory (unset) differ');
});

test('0 means no limit', () => {
  const c = ctx();
  assert.deepEqual(
    normalizeResources({ mem_limit: 0, cpus: '0', deploy: { resources: { reservations: { cpus: 0 } } } }, c),
    {},
  );
  assert.deepEqual(c.findings, []);
});

test('malformed memory and cpus are schema errors at their key paths', () => {
  const c = ctx();
  const raw = {
    mem_limit: '12 parsecs',
    cpus: 'lots',
    deploy: { resources: { limits: { memory: '1 zillion', cpus: -1 }, reservations: { cpus: 'x' } } },
  };
  assert.deepEqual(normalizeResources(raw, c), {});
  assert.deepEqual(
    c.findings.map((f) => [f.where.path, f.message]),
    [
      ['services/app/mem_limit', 'mem_limit "12 parsecs" is not a memory size'],
      [
        'services/app/deploy/resources/limits/memory',
        'deploy.resources.limits.memory "1 zillion" is not a memory size',
      ],
      ['services/app/cpus', 'cpus "lots" is not a number of CPUs'],
      ['services/app/deploy/resources/limits/cpus', 'deploy.resources.limits.cpus -1 is not a number of CPUs'],
      [
        'services/app/deploy/resources/reservations/cpus',
        'deploy.resources.reservations.cpus "x" is not a number of CPUs',
      ],
    ],
  );
  assert.equal(
    c.findings[0]!.hint,
    'Write memory as a number of bytes (536870912) or a number with a unit b, k, m, g, t or p (powers of 1024, any case, optional "b"), e.g. "512m" or "1.5g".',
  );
  assert.equal(c.findings[2]!.hint, 'Write CPUs as a non-negative number of cores, e.g. 0.5 or "1.5".');
});

test('a malformed value on one side does not also report a conflict', () => {
  const c = ctx();
  assert.deepEqual(normalizeResources({ mem_limit: '1g', deploy: { resources: { limits: { memory: 'lots' } } } }, c), {
    memoryLimit: GiB,
  });
  assert.deepEqual(
    c.findings.map((f) => f.where.path),
    ['services/app/deploy/resources/limits/memory'],
  );
});
