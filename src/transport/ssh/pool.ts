/**
 * Hands out one SshTransport per fleet host, all sharing one bound on concurrent
 * handshakes (default 8), so that a run over many hosts neither opens a connection
 * per command nor opens every connection at once.
 */
import { Limiter } from './limiter.js';
import type { SshTarget } from './target.js';
import { DEFAULT_MAX_HANDSHAKES, SshTransport, type SshOptions } from './transport.js';

export interface SshPoolOptions extends Omit<SshOptions, 'limiter'> {
  maxHandshakes?: number;
}

export class SshPool {
  private readonly limiter: Limiter;
  private readonly transports = new Map<string, SshTransport>();

  constructor(private readonly options: SshPoolOptions = {}) {
    this.limiter = new Limiter(options.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES);
  }

  /** The transport for `target.name`, created on first request (later targets of the same name get the first's). */
  get(target: SshTarget): SshTransport {
    let transport = this.transports.get(target.name);
    if (!transport) {
      transport = new SshTransport(target, { ...this.options, limiter: this.limiter });
      this.transports.set(target.name, transport);
    }
    return transport;
  }

  /** Handshakes started (retries included) and the most that ran at once. */
  get handshakes(): { started: number; peak: number } {
    return { started: this.limiter.started, peak: this.limiter.peak };
  }

  async close(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
