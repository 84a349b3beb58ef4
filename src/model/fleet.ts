/**
 * The fleet: servers, and which stack runs where. Loaded from `ferry.yml` (or made up
 * on the spot from `--compose` files, with no server).
 */
import type { Locator } from './compose.js';

export interface ServerDef {
  name: string;
  host: string;
  /** Default: the ~/.ssh/config alias's User, else root (resolved by the transport). */
  user?: string;
  /** Default: the alias's Port, else 22. */
  port?: number;
  /** Run root commands through `sudo -n`. */
  sudo?: boolean;
  /** Private key path (absolute, or starting with `~`). */
  identityFile?: string;
  /** Bytes. */
  memory?: number;
  cpus?: number;
  /** Bytes. */
  disk?: number;
  /** Monthly cost in the fleet's currency. */
  cost?: number;
  /** A Postgres installed on the host (outside Docker), for connection budgets. */
  postgres?: { maxConnections: number };
}

/** An application's pool of Postgres connections, for the connection budget. */
export interface ConnectionPool {
  /** Service in this stack that opens the pool. */
  service: string;
  /** Connections per replica. */
  pool: number;
  /** Replicas; default: the service's own replica count. */
  replicas?: number;
  /** Processes (workers) per replica that each open a pool; default 1. */
  processes?: number;
  /** `STACK/SERVICE` of a Postgres service, `SERVICE` in the same stack, or `server:NAME` for a Postgres on a host. */
  to: string;
  /** Index in the fleet file's `connections` list. */
  index: number;
}

export interface StackDef {
  name: string;
  /** Server name; undefined only for stacks made from `--compose` with no fleet file. */
  server?: string;
  /** Compose files, absolute paths, in override order. */
  compose: string[];
  envFile?: string;
  profiles?: string[];
  /** Compose project name override. */
  project?: string;
  connections: ConnectionPool[];
}

export interface Fleet {
  /** Absolute path of ferry.yml, or undefined for `--compose`. */
  file?: string;
  /** ferry.yml as displayed to the user. */
  display?: string;
  servers: Record<string, ServerDef>;
  stacks: Record<string, StackDef>;
  /** Positions of fleet file keys (`stacks/web/server`). */
  locate: Locator;
}
