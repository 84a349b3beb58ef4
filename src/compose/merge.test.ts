import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeFiles, listOrMapToDict } from './merge.js';
import { OverrideTag, ResetTag } from '../yaml/plain.js';

test('mappings merge key by key, scalars are replaced', () => {
  const out = mergeFiles([
    { services: { web: { image: 'a:1', restart: 'always', deploy: { resources: { limits: { memory: '1G' } } } } } },
    { services: { web: { image: 'a:2', deploy: { resources: { limits: { cpus: '1' } } } } } },
  ]);
  assert.deepEqual(out, {
    services: {
      web: { image: 'a:2', restart: 'always', deploy: { resources: { limits: { memory: '1G', cpus: '1' } } } },
    },
  });
});

test('command, entrypoint and healthcheck.test are replaced, not appended', () => {
  const out = mergeFiles([
    {
      services: { w: { command: ['a', 'b'], entrypoint: ['x'], healthcheck: { test: ['CMD', 'a'], interval: '5s' } } },
    },
    { services: { w: { command: ['c'], entrypoint: ['y'], healthcheck: { test: ['CMD', 'b'] } } } },
  ]);
  assert.deepEqual(out, {
    services: { w: { command: ['c'], entrypoint: ['y'], healthcheck: { test: ['CMD', 'b'], interval: '5s' } } },
  });
});

test('ports and volumes append, unique by key; a later volume on the same target wins', () => {
  const out = mergeFiles([
    { services: { w: { ports: ['80:80', '443:443'], volumes: ['data:/data', './a:/a'] } } },
    { services: { w: { ports: ['80:80', '8080:8080'], volumes: ['other:/data'] } } },
  ]) as { services: { w: { ports: string[]; volumes: string[] } } };
  assert.deepEqual(out.services.w.ports, ['80:80', '443:443', '8080:8080']);
  assert.deepEqual(out.services.w.volumes, ['other:/data', './a:/a']);
});

test('environment and labels merge as mappings whichever syntax each file used', () => {
  const out = mergeFiles([
    { services: { w: { environment: ['A=1', 'B=2', 'C'], labels: { x: '1' } } } },
    { services: { w: { environment: { B: '3', D: '4' }, labels: ['y=2'] } } },
  ]);
  assert.deepEqual(out, {
    services: { w: { environment: { A: '1', B: '3', C: null, D: '4' }, labels: { x: '1', y: '2' } } },
  });
});

test('depends_on list and map merge', () => {
  const out = mergeFiles([
    { services: { w: { depends_on: ['db'] } } },
    { services: { w: { depends_on: { cache: { condition: 'service_healthy' } } } } },
  ]);
  assert.deepEqual(out, {
    services: {
      w: {
        depends_on: { db: { condition: 'service_started', required: true }, cache: { condition: 'service_healthy' } },
      },
    },
  });
});

test('!reset removes a key and !override replaces it whole', () => {
  const out = mergeFiles([
    { services: { w: { ports: ['80:80'], environment: { A: '1' }, build: { context: '.', args: { X: '1' } } } } },
    { services: { w: { ports: new ResetTag(), environment: new OverrideTag({ B: '2' }) } } },
  ]);
  assert.deepEqual(out, { services: { w: { environment: { B: '2' }, build: { context: '.', args: { X: '1' } } } } });
});

test('build given as a string merges with a mapping', () => {
  const out = mergeFiles([
    { services: { w: { build: './app' } } },
    { services: { w: { build: { dockerfile: 'Dockerfile.prod' } } } },
  ]);
  assert.deepEqual(out, { services: { w: { build: { context: './app', dockerfile: 'Dockerfile.prod' } } } });
});

test('listOrMapToDict keeps values that contain the separator', () => {
  assert.deepEqual(listOrMapToDict(['URL=postgres://a:b@c/d?x=1', 'EMPTY=', 'BARE']), {
    URL: 'postgres://a:b@c/d?x=1',
    EMPTY: '',
    BARE: null,
  });
});
