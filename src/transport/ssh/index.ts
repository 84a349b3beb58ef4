export { SshTransport, DEFAULT_MAX_HANDSHAKES, type SshOptions } from './transport.js';
export { SshPool, type SshPoolOptions } from './pool.js';
export { resolveTarget, type SshTarget, type ResolvedTarget, type Endpoint } from './target.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { Limiter } from './limiter.js';
export type { TransportEvent, TransportListener } from './events.js';
