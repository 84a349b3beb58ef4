/**
 * A stack's repositories as its server reaches them: a path there, or another server of
 * the fleet over SFTP through a channel (a key made on the stack's server, authorized on
 * the repository's server from the stack server's address only). Pure.
 */
import type { BackupRepositoryDef } from '../model/backup.js';
import type { ServerDef } from '../model/fleet.js';
import { channelFor, destination, type Endpoint } from '../migrate/channel.js';
import type { RepoAccess } from './restic.js';
import type { Secret } from '../core/secret.js';

export const endpointOf = (s: ServerDef): Endpoint => ({
  name: s.name,
  address: s.privateAddress ?? s.host,
  port: s.port ?? 22,
  user: s.user ?? 'root',
  sudo: s.sudo === true,
});

/** The channel's name: its key is `~/.ssh/ferry-migrate-STACK-backup` on the stack's server. */
export const channelStack = (stack: string): string => `${stack}-backup`;

/** Where a REST repository's URL with its credentials, or a bucket's keys, are kept on the stack's server (mode 600, directory mode 700). */
export const repositoryFile = (stack: string, repo: string): string => `/etc/ferry/backup/${stack}.repo-${repo}`;

/** A bucket's keys in the AWS credentials format, as restic reads them (AWS_SHARED_CREDENTIALS_FILE). */
export const s3Keys = (accessKeyId: string, secretAccessKey: string): string =>
  `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;

const credentialsFile = (
  stack: string,
  repo: string,
  holds: 'url' | 'keys',
  content: Secret | undefined,
): NonNullable<RepoAccess['file']> => ({ path: repositoryFile(stack, repo), holds, ...(content ? { content } : {}) });

/** `rest:URL` with the user and password in it (percent-encoded), as restic reads it from its repository file. */
export function restUrlWith(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return `rest:${u.toString()}`;
}

/**
 * `credentials`: for a REST repository with a user, the `rest:` URL with the user and
 * password (`restUrlWith`); for a bucket, its keys (`s3Keys`); read by the caller from
 * their secrets, to write the file restic reads; without them the file is only named.
 */
export function repoAccess(
  stack: string,
  repo: BackupRepositoryDef,
  server: ServerDef,
  servers: Record<string, ServerDef>,
  credentials?: Secret,
): RepoAccess {
  if (repo.rest) {
    const url = `rest:${repo.rest.url}`;
    // With a user, restic reads the URL from the file, also where this machine has not read
    // the password (the schedule kept in step by `ferry apply`): `ferry backup run` wrote it.
    if (repo.rest.user === undefined) return { name: repo.name, stack, url };
    return { name: repo.name, stack, url, file: credentialsFile(stack, repo.name, 'url', credentials) };
  }
  if (repo.s3)
    return {
      name: repo.name,
      stack,
      url: `s3:${repo.s3.url}`,
      file: credentialsFile(stack, repo.name, 'keys', credentials),
      ...(repo.s3.region ? { region: repo.s3.region } : {}),
    };
  if (!repo.server || repo.server === server.name) return { name: repo.name, stack, url: repo.path };
  const there = servers[repo.server];
  if (!there) throw new Error(`repoAccess: no server ${repo.server}`);
  const to = endpointOf(there);
  const channel = channelFor(channelStack(stack), endpointOf(server), to);
  return { name: repo.name, stack, url: `sftp:${destination(to, true)}:${repo.path}`, channel };
}
