/** Images sent to a real server without a registry, through the engine: once, then never again. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Redactor } from '../../src/core/redact.js';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import { imageStep } from '../../src/engine/steps/images.js';
import type { RunEvent } from '../../src/engine/events.js';
import { LocalTransport } from '../../src/transport/local.js';
import { SshPool } from '../../src/transport/ssh/index.js';
import { onHost, sshTarget, testbedHosts, testbedIsUp } from './helpers.js';

describe(
  'image transfer on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    test('streams a missing image over SSH into docker load, then finds nothing to send', async () => {
      const h = testbedHosts()[2]!;
      // A name of this test's own: stacks of other suites that may run beside it on this host
      // use ferry-tb-redis:1, and removing that would break them.
      const image = 'ferry-tb-images-test:1';
      execFileSync('docker', ['tag', 'ferry-tb-redis:1', image]);
      onHost(h, `docker rmi ${image} >/dev/null 2>&1 || true`);
      const localId = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', image], {
        encoding: 'utf8',
      }).trim();
      const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
      const transport = pool.get(sshTarget(h));
      const run = async () => {
        const events: RunEvent[] = [];
        const plan = makePlan([
          imageStep({ id: 'images', host: h.name, images: [image], local: new LocalTransport() }),
        ]);
        const summary = await runPlan(plan, {
          transports: () => transport,
          redactor: new Redactor(),
          onEvent: (e) => events.push(e),
        });
        return { summary, events };
      };
      try {
        const first = await run();
        assert.deepEqual(
          [first.summary.changed, first.summary.ok, first.summary.failed],
          [1, 0, 0],
          JSON.stringify(first.events.filter((e) => e.kind === 'step-end')),
        );
        const checked = first.events.find((e) => e.kind === 'step-checked');
        assert.ok(checked && checked.kind === 'step-checked');
        assert.equal(checked.change?.summary, `send ${image} (zstd)`);
        assert.equal(onHost(h, `docker image inspect --format '{{.Id}}' ${image}`).trim(), localId);
        const second = await run();
        assert.deepEqual([second.summary.changed, second.summary.ok], [0, 1]);
      } finally {
        await pool.close();
        onHost(h, `docker rmi ${image} >/dev/null 2>&1 || true`);
        execFileSync('docker', ['rmi', image], { stdio: 'ignore' });
      }
    });
  },
);
