/**
 * The proof a hardened server asks for (src/harden/prove.ts), over SSH: a connection of its
 * own, not the pooled one, to the host the pool reaches, on sshd's new port as the new
 * user, with Ferry's keys only; its host key must be the one known for the server (at the
 * declared port when the new one has no entry yet). It runs `sudo -n true` (plain `true`
 * as root), then closes.
 */
import type { Redactor } from '../../core/redact.js';
import { cmd } from '../../shell/command.js';
import type { ProofRequest, ProofResult, Prover } from '../../harden/prove.js';
import { TransportError, type Transport } from '../transport.js';
import { SshTransport } from './transport.js';

export function sshProver(transports: (server: string) => Transport, redactor: Redactor): Prover {
  return async (server: string, req: ProofRequest): Promise<ProofResult> => {
    const pooled = transports(server);
    if (!(pooled instanceof SshTransport)) return { ok: true, message: `${server} is not reached over SSH` };
    const resolved = await pooled.resolve();
    const declared = resolved.fallback ?? resolved.endpoint;
    const fresh = new SshTransport(
      {
        name: server,
        host: declared.host,
        port: req.port,
        user: req.user,
        identityFiles: declared.identityFiles,
        knownHostsFiles: resolved.knownHostsFiles,
        knownAtPorts: [...new Set([declared.port, resolved.endpoint.port])],
        connectTimeoutMs: resolved.connectTimeoutMs,
        commandTimeoutMs: 30_000,
      },
      {
        redactor,
        sshConfigPath: null,
        agentSocket: process.env['SSH_AUTH_SOCK'] || null,
        retry: { retries: 1, baseDelayMs: 500, maxDelayMs: 1000 },
      },
    );
    const where = `${req.user}@${declared.host}:${req.port}`;
    try {
      const r = await fresh.exec(cmd('true'), { sudo: true });
      return r.code === 0
        ? { ok: true, message: `${where}: a new session got in${req.user === 'root' ? '' : ', sudo works'}` }
        : { ok: false, message: `${where}: logged in, but \`sudo -n true\` failed (exit ${r.code})` };
    } catch (e) {
      return { ok: false, message: e instanceof TransportError ? `${e.code}: ${e.message}` : String(e) };
    } finally {
      await fresh.close();
    }
  };
}
