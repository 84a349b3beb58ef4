/**
 * The graphs of `ferry rollback` after a migration (rollback-plan.ts, with what an unfinished
 * replicated migration may have left, rollback-replica.ts): each step's id, host, phase and
 * dependencies, in the plan's order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoCompose, fixture, graphOf, sourceReleaseOf, type Graph } from './plan-fixture.js';
import { databases } from './postgres.js';
import { migrationRollbackSteps, type RollbackInput } from './rollback-plan.js';
import { leftoverSteps } from './rollback-replica.js';
import { sideOf } from './context.js';
import { movedParts, newMigration } from './plan.js';

const strip = (id: string): string => id.replace(/^shop\/unmigrate\//, '');
const short = (g: Graph): Graph => g.map(([id, host, phase, deps]) => [strip(id), host, phase, deps.map(strip)]);

function inputs(proxy: boolean) {
  const f = fixture({ compose: demoCompose({ cache: true, files: true }), proxy });
  const base: RollbackInput = {
    stack: f.stack.def,
    source: f.source,
    target: f.target,
    sourceRelease: sourceReleaseOf(f.stack),
    transports: f.move.transports,
  };
  const leftovers = {
    databases: databases(f.stack.project!.services),
    sourceEndpoint: f.move.sourceEndpoint,
    targetEndpoint: f.move.targetEndpoint,
  };
  return { f, base, leftovers, targetRelease: { ...sourceReleaseOf(f.stack), id: '20260102-000000-bbbbbbbb' } };
}

test('rollback of a migration: the source serves again, then the target stops and what replication left goes', () => {
  const { base, leftovers, targetRelease } = inputs(true);
  assert.deepEqual(short(graphOf(migrationRollbackSteps({ ...base, targetRelease, leftovers }))), [
    ['start-source', 'host1', 'deploy', []],
    ['upstreams', 'host1', 'proxy', ['start-source']],
    ['live', 'host2', 'verify', ['start-source', 'upstreams']],
    ['stop-target', 'host2', 'verify', ['start-source', 'upstreams']],
    ['replica-target', 'host2', 'deploy', []],
    ['replica-source', 'host1', 'deploy', ['start-source', 'replica-target']],
    ['channel', 'host1', 'verify', ['replica-target', 'start-source']],
    ['replica-channel', 'host2', 'verify', ['replica-target', 'start-source']],
    ['back-channel', 'host2', 'verify', ['replica-target', 'start-source']],
    ['marker', 'host1', 'verify', ['start-source', 'upstreams']],
    ['moving', 'host1', 'verify', ['start-source', 'upstreams']],
    ['report', 'host2', 'verify', ['start-source', 'upstreams']],
  ]);
});

test('rollback without a proxy: the markers wait only for the source started', () => {
  const { base, leftovers, targetRelease } = inputs(false);
  assert.deepEqual(short(graphOf(migrationRollbackSteps({ ...base, targetRelease, leftovers }))), [
    ['start-source', 'host1', 'deploy', []],
    ['live', 'host2', 'verify', ['start-source']],
    ['stop-target', 'host2', 'verify', ['start-source']],
    ['replica-target', 'host2', 'deploy', []],
    ['replica-source', 'host1', 'deploy', ['start-source', 'replica-target']],
    ['channel', 'host1', 'verify', ['replica-target', 'start-source']],
    ['replica-channel', 'host2', 'verify', ['replica-target', 'start-source']],
    ['back-channel', 'host2', 'verify', ['replica-target', 'start-source']],
    ['marker', 'host1', 'verify', ['start-source']],
    ['moving', 'host1', 'verify', ['start-source']],
    ['report', 'host2', 'verify', ['start-source']],
  ]);
});

test('rollback of a migration stopped before the target ran a release, nothing left to remove', () => {
  const { base } = inputs(true);
  assert.deepEqual(short(graphOf(migrationRollbackSteps(base))), [
    ['start-source', 'host1', 'deploy', []],
    ['upstreams', 'host1', 'proxy', ['start-source']],
    ['live', 'host2', 'verify', ['start-source', 'upstreams']],
    ['marker', 'host1', 'verify', ['start-source', 'upstreams']],
    ['moving', 'host1', 'verify', ['start-source', 'upstreams']],
    ['report', 'host2', 'verify', ['start-source', 'upstreams']],
  ]);
});

test('rollback-replica: without databases, only the hold, the tunnels and the three channels', () => {
  const { f, leftovers } = inputs(true);
  const steps = leftoverSteps({
    ...leftovers,
    databases: [],
    stack: 'shop',
    source: sideOf(f.source, f.move.transports),
    target: sideOf(f.target, f.move.transports),
    sourceProject: 'shop',
    dependsOn: ['shop/unmigrate/start-source'],
  });
  assert.deepEqual(short(graphOf(steps)), [
    ['replica-target', 'host2', 'deploy', []],
    ['channel', 'host1', 'verify', ['replica-target', 'start-source']],
    ['replica-channel', 'host2', 'verify', ['replica-target', 'start-source']],
    ['back-channel', 'host2', 'verify', ['replica-target', 'start-source']],
  ]);
});

test("rollback after the target's data came into use: its writes carried back before anything else starts", () => {
  const { f, base, leftovers, targetRelease } = inputs(true);
  const m = newMigration(f.move, { release: targetRelease, ...movedParts(f.stack.project!), mode: 'dump' });
  const steps = migrationRollbackSteps({ ...base, targetRelease, leftovers, writeBack: { m, copies: async () => [] } });
  assert.deepEqual(short(graphOf(steps)).slice(0, 5), [
    ['source-db', 'host1', 'deploy', []],
    ['write-back', 'host2', 'deploy', ['source-db']],
    ['start-source', 'host1', 'deploy', ['write-back']],
    ['upstreams', 'host1', 'proxy', ['start-source']],
    ['live', 'host2', 'verify', ['source-db', 'write-back', 'start-source', 'upstreams']],
  ]);
  assert.deepEqual(steps[1]!.reaches, ['host1']);
});
