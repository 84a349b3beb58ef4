/**
 * Runs one shell line on an open SSH connection, in its own channel (no pty, so stdout
 * and stderr stay apart and no terminal echoes stdin). A timeout kills the command's
 * process group (see reap.ts), sends KILL and closes the channel; a connection that
 * closes first is reported as lost.
 */
import type { Client, ClientChannel } from 'ssh2';
import { signalExitCode } from './errors.js';
import { announcePid, PidFilter, reap } from './reap.js';
import { feedStdin, OutputCollector, type RunIO, type RunOutcome } from './run.js';

export function runOnChannel(client: Client, line: string, io: RunIO): Promise<RunOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: RunOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.removeListener('close', onLost);
      resolve(outcome);
    };
    let closed = false;
    const onLost = () => {
      closed = true;
      finish({ kind: 'lost' });
    };
    let channel: ClientChannel | undefined;
    let pids: PidFilter | undefined;
    const timer = setTimeout(() => {
      if (pids?.pid !== undefined) reap(client, pids.pid, io.sudo ?? false);
      if (channel) kill(channel);
      finish({ kind: 'timeout' });
    }, io.timeoutMs);
    client.once('close', onLost);
    try {
      client.exec(announcePid(line), { pty: false }, (err, ch) => {
        if (err) return finish(closed ? { kind: 'lost' } : { kind: 'refused', reason: err.message });
        channel = ch;
        if (done) return kill(ch);
        pids = collect(ch, io, started, finish);
      });
    } catch {
      // ssh2 throws "Not connected" when the connection has just closed.
      finish({ kind: 'lost' });
    }
  });
}

function collect(ch: ClientChannel, io: RunIO, started: number, finish: (o: RunOutcome) => void): PidFilter {
  const stdout = new OutputCollector(io.onStdout);
  const stderr = new OutputCollector(io.onStderr);
  const pids = new PidFilter((chunk) => stderr.push(chunk));
  let exit: number | undefined;
  ch.on('data', (chunk: Buffer) => stdout.push(chunk));
  ch.stderr.on('data', (chunk: Buffer) => pids.push(chunk));
  ch.on('exit', (code: number | null, signal?: string) => {
    exit = code ?? signalExitCode(signal ?? '');
  });
  ch.on('close', () => {
    pids.flush();
    const out = stdout.finish();
    const err = stderr.finish();
    if (exit === undefined) finish({ kind: 'lost' });
    else finish({ kind: 'exited', code: exit, stdout: out, stderr: err, durationMs: Date.now() - started });
  });
  // The remote side may exit before reading all of stdin; that is its business.
  ch.on('error', () => undefined);
  feedStdin(io.stdin, ch);
  return pids;
}

/**
 * Sends KILL, then closes. ssh2 1.17's `signal()` sends nothing once stdin is ended
 * (it checks `writable`), and stdin is always ended at the start so that commands see
 * EOF; so the request goes to ssh2's protocol layer directly while the channel is still
 * open or half-closed (mscdex/ssh2 issue #382, fix proposed in PR #1510). OpenSSH then
 * signals the command's process group.
 */
function kill(ch: ClientChannel): void {
  const internals = ch as unknown as ChannelInternals;
  try {
    const state = internals.outgoing?.state;
    if (state === 'open' || state === 'eof') internals._client?._protocol?.signal(internals.outgoing!.id, 'KILL');
  } catch {
    // The channel may already be closing.
  }
  ch.close();
}

interface ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(id: number, signal: string): void } };
}
