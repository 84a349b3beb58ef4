/** Runs the CLI in-process with a captured, reproducible Io (empty environment). */
import { main } from '../../src/cli/main.js';
import type { Env } from '../../src/compose/project-env.js';

export interface Transcript {
  code: number;
  out: string;
  err: string;
}

export async function ferry(args: string[], opts: { cwd?: string; env?: Env } = {}): Promise<Transcript> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
  });
  return { code, out, err };
}
