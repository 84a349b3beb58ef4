/**
 * One SSH connection to a target, through its jump hosts if any: each hop is an ssh2
 * Client whose `forwardOut` channel carries the next hop's connection (`sock`), as
 * `ssh -J` does. Host keys are verified at every hop; keepalives detect dead links.
 */
import type { Duplex } from 'node:stream';
import ssh2, { type Client } from 'ssh2';
import { authPlan } from './auth.js';
import { classifyConnectError, markRetryable } from './errors.js';
import { hostKeyCheck } from './host-key.js';
import type { Endpoint, ResolvedTarget } from './target.js';
import { TransportError } from '../transport.js';

export interface ConnectSettings {
  knownHostsFiles: string[];
  trustNewHostKey: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  agentSocket: string | undefined;
  /** Other ports of the target's host whose known key it may show (its declared port, for the hardened one). */
  samePorts?: number[];
}

export interface Connection {
  /** The client connected to the target itself. */
  readonly client: Client;
  /** Called once when the target's connection or any jump's closes. */
  onClose(listener: () => void): void;
  close(): void;
}

export async function openConnection(target: ResolvedTarget, settings: ConnectSettings): Promise<Connection> {
  const chain = [...target.jumps, target.endpoint];
  const clients: Client[] = [];
  const { samePorts, ...hop } = settings;
  try {
    for (const endpoint of chain) {
      const previous = clients[clients.length - 1];
      const sock = previous ? await forward(previous, target.name, endpoint, settings.connectTimeoutMs) : undefined;
      const last = endpoint === target.endpoint;
      clients.push(await connectEndpoint(target.name, endpoint, last ? settings : hop, sock));
    }
  } catch (e) {
    for (const c of clients.reverse()) c.end();
    throw e;
  }
  return chainConnection(clients);
}

function chainConnection(clients: Client[]): Connection {
  const listeners: (() => void)[] = [];
  let closed = false;
  const onAnyClose = () => {
    if (closed) return;
    closed = true;
    for (const c of clients) c.end();
    for (const l of listeners) l();
  };
  for (const c of clients) c.once('close', onAnyClose);
  return {
    client: clients[clients.length - 1]!,
    onClose: (l) => void listeners.push(l),
    close: () => {
      for (const c of [...clients].reverse()) c.end();
    },
  };
}

/** Connects and authenticates to one endpoint, over `sock` when given (a jump's channel). */
export async function connectEndpoint(
  name: string,
  endpoint: Endpoint,
  settings: ConnectSettings,
  sock?: Duplex,
): Promise<Client> {
  const where = `${endpoint.host}:${endpoint.port}`;
  const hostKey = await hostKeyCheck(name, endpoint.host, endpoint.port, settings);
  const auth = await authPlan(name, endpoint, settings.agentSocket);
  const client = new ssh2.Client();
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      const failure = classifyConnectError(hostKey.refusal ?? err, name, where, {
        user: endpoint.user,
        offered: auth.offered,
      });
      reject(failure.retryable ? markRetryable(failure.error) : failure.error);
    };
    // ssh2 emits 'error' for the life of the client; an unheard one would crash the process.
    client.on('error', fail);
    client.once('close', () =>
      fail(Object.assign(new Error('Connection lost before handshake'), { code: 'ECONNRESET' })),
    );
    client.once('ready', () => {
      settled = true;
      // Every running command listens for the connection closing.
      client.setMaxListeners(0);
      client.setNoDelay(true);
      resolve(client);
    });
    try {
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.user,
        ...(sock ? { sock } : {}),
        authHandler: auth.methods,
        hostVerifier: (key: Buffer, done: (ok: boolean) => void) => hostKey.verify(key, done),
        algorithms: { serverHostKey: hostKey.algorithms as never },
        readyTimeout: settings.connectTimeoutMs,
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: settings.keepaliveCountMax,
      });
    } catch (e) {
      fail(e);
    }
  });
}

/** A channel from `jump` to `endpoint`, to carry the next connection. */
function forward(jump: Client, name: string, endpoint: Endpoint, timeoutMs: number): Promise<Duplex> {
  const where = `${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        markRetryable(
          new TransportError(
            'connect-timeout',
            name,
            `${name}: the jump host did not reach ${where} within ${timeoutMs} ms`,
            `check that the jump host can reach ${where}`,
          ),
        ),
      );
    }, timeoutMs);
    jump.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (err, stream) => {
      clearTimeout(timer);
      if (err) {
        const failure = classifyConnectError(err, name, where);
        reject(failure.retryable ? markRetryable(failure.error) : failure.error);
      } else resolve(stream);
    });
  });
}
