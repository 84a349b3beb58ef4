/** What the shell transports report while they work, for journals and tests (zx-style: one injectable listener). */
import type { ExecResult, TransportErrorCode } from '../transport.js';

export type TransportEvent =
  | { kind: 'connecting'; host: string; attempt: number }
  | { kind: 'connected'; host: string; durationMs: number }
  | { kind: 'connect-retry'; host: string; attempt: number; delayMs: number; code: TransportErrorCode }
  | { kind: 'disconnected'; host: string }
  /** A command that ran to its exit (its line redacted), whatever the exit code. */
  | { kind: 'exec'; host: string; result: ExecResult };

export type TransportListener = (event: TransportEvent) => void;
