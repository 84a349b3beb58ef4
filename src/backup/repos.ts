/**
 * A stack's repositories as its server reaches them: a path there, or another server of
 * the fleet over SFTP through a channel (a key made on the stack's server, authorized on
 * the repository's server from the stack server's address only). Pure.
 */
import type { BackupRepositoryDef } from '../model/backup.js';
import type { ServerDef } from '../model/fleet.js';
import { channelFor, destination, type Endpoint } from '../migrate/channel.js';
import type { RepoAccess } from './restic.js';

export const endpointOf = (s: ServerDef): Endpoint => ({
  name: s.name,
  address: s.privateAddress ?? s.host,
  port: s.port ?? 22,
  user: s.user ?? 'root',
  sudo: s.sudo === true,
});

/** The channel's name: its key is `~/.ssh/ferry-migrate-STACK-backup` on the stack's server. */
export const channelStack = (stack: string): string => `${stack}-backup`;

export function repoAccess(
  stack: string,
  repo: BackupRepositoryDef,
  server: ServerDef,
  servers: Record<string, ServerDef>,
): RepoAccess {
  if (!repo.server || repo.server === server.name) return { name: repo.name, stack, url: repo.path };
  const there = servers[repo.server];
  if (!there) throw new Error(`repoAccess: no server ${repo.server}`);
  const to = endpointOf(there);
  const channel = channelFor(channelStack(stack), endpointOf(server), to);
  return { name: repo.name, stack, url: `sftp:${destination(to, true)}:${repo.path}`, channel };
}
