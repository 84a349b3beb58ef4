/** What the steps of one migration share: the two servers, the channel between them, and what they measured. */
import type { Transport } from '../transport/transport.js';
import type { TransferKind } from '../engine/step.js';
import type { Secret } from '../core/secret.js';
import type { HostPostgresDef } from '../model/fleet.js';
import type { Channel } from './channel.js';
import type { Database, TableReport } from './postgres.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import type { VolumeReport } from './volumes.js';

export type { VolumeReport };

export interface Side {
  name: string;
  sudo: boolean;
  transport: () => Transport;
}

/** A server as the steps of a move reach it. */
export const sideOf = (s: { name: string; sudo?: boolean }, transports: (server: string) => Transport): Side => ({
  name: s.name,
  sudo: s.sudo ?? false,
  transport: () => transports(s.name),
});

export interface Migration {
  stack: string;
  project: string;
  source: Side;
  target: Side;
  ch: Channel;
  /** The release the source runs now. */
  sourceRelease: ReleaseMeta;
  /** The release the target runs (the same files as the source's current one). */
  release: ReleaseMeta;
  databases: Database[];
  /** Named volumes of the project moved by copy (database volumes excluded in dump mode). */
  volumes: string[];
  /** Services that keep state in memory and write it on BGSAVE (Redis). */
  redis: string[];
  /** How databases move: stopped and dumped, or replicated while the stack runs. */
  mode: 'dump' | 'replicate';
  /** The longest any wait inside the write pause may last (`migrate.max_pause`); past it, the step fails and the move is rolled back. */
  maxPauseMs: number;
  /** Database services kept in the Postgres installed on the target (`server_postgres`), by service: no container of them there. */
  installed?: Record<string, HostPostgresDef>;
  /** Database services kept in the Postgres installed on the source (its release runs no container of them), by service. */
  sourceInstalled?: Record<string, HostPostgresDef>;
  /** Per database service, the password its role logs in with (replication connects with it). */
  passwords?: Record<string, Secret>;
  marks: {
    startedAt: number;
    tables: TableReport[];
    volumes: VolumeReport[];
  };
}

export interface MigrationReport {
  downtime_ms: number | null;
  /** Everything that crossed between machines, in bytes: the sum of `transferred`. */
  bytes_transferred: number;
  transferred: Record<TransferKind, number>;
  duration_ms: number;
  verified: { tables: TableReport[]; volumes: VolumeReport[] };
}

/**
 * `downtime`: the write pause across the migration's runs; `transferred`: what crossed between
 * machines across them, by kind (see runs.ts).
 */
export function report(
  m: Migration,
  endedAt: number,
  downtime: number | null,
  transferred: Record<TransferKind, number>,
): MigrationReport {
  return {
    downtime_ms: downtime,
    bytes_transferred: Object.values(transferred).reduce((a, b) => a + b, 0),
    transferred,
    duration_ms: endedAt - m.marks.startedAt,
    verified: { tables: m.marks.tables, volumes: m.marks.volumes },
  };
}
