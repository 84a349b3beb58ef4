/** The writing probe (scripts/probe.mjs) in its own process, and what it saw. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROBE = fileURLToPath(new URL('../../scripts/probe.mjs', import.meta.url));

export interface Answer {
  at: number;
  status: number;
  hits: number | undefined;
  tookMs: number;
  /** The id of the row the request wrote (a 200 answer). */
  id: number | undefined;
}

export interface Seen {
  answers: number;
  failed: Answer[];
  acked: number[];
  /** The ids of the rows whose writes were acknowledged: each must be in the database that serves. */
  ackedIds: number[];
  /** The longest time between two acknowledged writes. */
  gap: number;
  /** The longest a request waited for its answer. */
  slowest: number;
}

/** GET /health through nginx at `address` with Host `domain` (each 200 writes a row), until `stop`. */
export function probe(address: string, domain: string, timeoutMs = 5000) {
  const child = spawn(process.execPath, [PROBE, address, domain, String(timeoutMs)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // A test that fails before `stop` leaves no probe behind.
  const orphan = () => child.kill('SIGTERM');
  process.once('exit', orphan);
  void closed.then(() => process.off('exit', orphan));
  const answers = (): Answer[] =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .map(([at, status, hits, took, id]) => ({
        at: Number(at),
        status: Number(status),
        hits: hits === '-' ? undefined : Number(hits),
        tookMs: Number(took ?? 0),
        id: id === undefined || id === '-' ? undefined : Number(id),
      }));
  return {
    answers,
    /** Resolves once a write made after `since` was acknowledged; false after `limitMs`. */
    okAfter: async (since: number, limitMs: number): Promise<boolean> => {
      const deadline = Date.now() + limitMs;
      while (Date.now() < deadline) {
        if (answers().some((a) => a.status === 200 && a.at > since)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
    stop: async (): Promise<Seen> => {
      child.kill('SIGTERM');
      await closed;
      // The request in flight when the probe was stopped has no answer: not counted.
      const all = answers().filter((a) => !Number.isNaN(a.status));
      const ok = all.filter((a) => a.status === 200);
      let gap = 0;
      for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i]!.at - ok[i - 1]!.at);
      return {
        answers: all.length,
        failed: all.filter((a) => a.status !== 200),
        acked: ok.flatMap((a) => (a.hits === undefined ? [] : [a.hits])),
        ackedIds: ok.flatMap((a) => (a.id === undefined ? [] : [a.id])),
        gap,
        slowest: Math.max(0, ...all.map((a) => a.tookMs)),
      };
    },
  };
}
