/**
 * The Transport interface on this machine: each line runs in `sh -c` (in its own
 * process group, so that a timeout kills the whole command), uploads are the same atomic
 * mktemp + chmod + mv as over SSH, with content on stdin.
 */
import { spawn } from 'node:child_process';
import { signalExitCode } from './ssh/errors.js';
import { feedStdin, OutputCollector, type RunIO, type RunOutcome } from './ssh/run.js';
import { ShellTransport, type ShellTransportOptions } from './ssh/shell-transport.js';

export interface LocalOptions extends ShellTransportOptions {
  /** The host's name in messages. Default `local`. */
  name?: string;
  /** Default 15 min. */
  commandTimeoutMs?: number;
}

export class LocalTransport extends ShellTransport {
  readonly name: string;
  protected readonly commandTimeoutMs: number;

  constructor(options: LocalOptions = {}) {
    super(options);
    this.name = options.name ?? 'local';
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15 * 60_000;
  }

  async close(): Promise<void> {
    // Nothing stays open between commands.
  }

  protected async wantsSudo(asked: boolean | undefined): Promise<boolean> {
    return (asked ?? false) && process.getuid?.() !== 0;
  }

  protected runLine(line: string, io: RunIO): Promise<RunOutcome> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', line], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout = new OutputCollector(io.onStdout);
      const stderr = new OutputCollector(io.onStderr);
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        killGroup(child.pid);
        resolve({ kind: 'timeout' });
      }, io.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (e) => stderr.push(Buffer.from(`${e.message}\n`)));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const out = stdout.finish();
        const err = stderr.finish();
        if (done) return;
        const exit = code ?? (signal ? signalExitCode(signal) : 127);
        resolve({ kind: 'exited', code: exit, stdout: out, stderr: err, durationMs: Date.now() - started });
      });
      // A command that exits without reading its stdin is not an error of ours.
      child.stdin.on('error', () => undefined);
      feedStdin(io.stdin, child.stdin);
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
