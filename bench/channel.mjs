// The migration channel between two test bed hosts, for the benchmarks that move data
// straight between servers: opened and closed by a migration's own steps, and a pipe run on
// the source from a command there into one on the target, through the channel.
import { channelFor, channelSteps, onTarget } from '../dist/migrate/channel.js';
import { Redactor } from '../dist/core/redact.js';
import { makePlan } from '../dist/engine/plan.js';
import { runPlan } from '../dist/engine/run.js';
import { cmd, pipe, render, script } from '../dist/shell/command.js';

const endpoint = (h) => ({ name: h.name, address: h.host, port: h.port, user: h.user, sudo: false });

/** `from` and `to` are test bed hosts, `source` and `target` their transports. */
export function benchChannel(from, to, source, target) {
  const ch = channelFor('bench', endpoint(from), endpoint(to));
  const steps = channelSteps({ ch, source: () => source, target: () => target, dependsOn: [] });
  const transports = (name) => (name === from.name ? source : target);
  const run = async (step) => {
    const s = await runPlan(makePlan([step]), { transports, redactor: new Redactor(), onEvent: () => undefined });
    if (s.failed) throw new Error(`${step.id} failed`);
  };
  return {
    ch,
    open: () => run(steps.open),
    close: () => run({ ...steps.close, dependsOn: [] }),
    /** `from | ssh TARGET into`, run on the source with pipefail; its stdout. */
    piped: async (fromCommand, into) => {
      const line = render(cmd('bash', '-o', 'pipefail', '-c', render(pipe(fromCommand, onTarget(ch, into)))));
      return (await source.exec(script(line), { check: true, timeoutMs: 60 * 60_000 })).stdout;
    },
  };
}

/** `pg_dump -Fc` of database `demo` in `container`, as a restore by hand would read it. */
export const pgDumpCustom = (container) =>
  cmd('docker', 'exec', container, 'pg_dump', '-U', 'demo', '-d', 'demo', '-Fc', '--no-owner', '--no-privileges');
