/** What every `ferry backup` command needs about a stack: its backups, its server, the password, the repositories. */
import { readFileSync } from 'node:fs';
import { FerryError, UsageError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { suggest } from '../core/suggest.js';
import type { BackupDef, BackupPasswordDef, RestRepositoryDef, S3RepositoryDef } from '../model/backup.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { repoAccess, restUrlWith, s3Keys } from '../backup/repos.js';
import type { BackupSources } from '../backup/sources.js';
import { stackSources } from '../backup/stack-sources.js';
import type { RepoAccess } from '../backup/restic.js';
import type { Session } from './session.js';

export interface BackupTarget {
  stack: LoadedStack;
  def: BackupDef;
  server: ServerDef;
  repos: RepoAccess[];
  sources: BackupSources;
  /** Where its backups are written: `ferry.yml: stacks/NAME/backups`. */
  place: string;
}

/** The stacks of the fleet that have `backups`. */
export const backedUp = (s: Session): LoadedStack[] => s.loaded.stacks.filter((x) => x.def.backups !== undefined);

/** The stack's backups as its server reaches them; `on`: as another server of the fleet would (a restore there). */
export function backupTarget(s: Session, name: string, on?: string): BackupTarget {
  const stack = s.loaded.stacks.find((x) => x.def.name === name);
  if (!stack) {
    const names = s.loaded.stacks.map((x) => x.def.name);
    const near = suggest(name, names);
    throw new UsageError(
      `unknown stack "${name}"${near ? `; did you mean "${near}"?` : ''}`,
      `Stacks in ${s.loaded.fleet.display ?? 'the fleet file'}: ${names.join(', ') || 'none'}.`,
    );
  }
  const def = stack.def.backups;
  const place = `${s.loaded.fleet.display ?? 'ferry.yml'}: stacks/${name}/backups`;
  if (!def)
    throw new FerryError(
      'backup-not-configured',
      `stack ${name} has no backups`,
      place,
      'Add a `backups` key to the stack (see docs/backups.md): a password and at least one repository.',
      2,
    );
  if (def.repositories.length === 0 || !def.password)
    throw new FerryError(
      'backup-not-configured',
      `stack ${name}'s backups name ${def.password ? 'no repository' : 'no password'}`,
      place,
      'Give `backups` (or the top-level `backups`) a `password: { env: NAME }` and at least one repository.',
      2,
    );
  const server = s.loaded.fleet.servers[on ?? stack.def.server!];
  if (!server)
    throw new UsageError(
      `no server "${on}" in the fleet file`,
      `Servers: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`,
      '--to',
    );
  const unknown = def.repositories.find((r) => r.server !== undefined && !s.loaded.fleet.servers[r.server]);
  if (unknown)
    throw new FerryError(
      'backup-not-configured',
      `repository ${unknown.name} of stack ${name} names server "${unknown.server}", which the fleet file does not define`,
      place,
      `Name a server of the fleet: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`,
      2,
    );
  // A repository without a server is on the stack's own server, also when read from another.
  const repos = def.repositories.map((r) =>
    r.rest
      ? repoAccess(name, r, server, s.loaded.fleet.servers, restCredentials(s, r, name))
      : r.s3
        ? repoAccess(name, r, server, s.loaded.fleet.servers, bucketKeys(s, r, name))
        : repoAccess(name, { ...r, server: r.server ?? stack.def.server! }, server, s.loaded.fleet.servers),
  );
  return {
    stack,
    def,
    server,
    repos,
    sources: stackSources(name, stack.project!, def, stack.def.serverPostgres),
    place,
  };
}

/**
 * A REST repository's `rest:` URL with its user and password, taught to the redactor;
 * undefined for a server without authentication.
 */
function restCredentials(s: Session, r: RestRepositoryDef, stack: string): Secret | undefined {
  const { url, user, password } = r.rest;
  if (user === undefined || password === undefined) return undefined;
  const pw = readPassword(s, password, stack, {
    key: `stacks/${stack}/backups/repositories/${r.name}/rest/password`,
    what: `the password of REST repository ${r.name}`,
    hint: "the REST server user's password (the one its .htpasswd holds).",
  });
  s.redactor.add(encodeURIComponent(pw.reveal()));
  const full = restUrlWith(url, user, pw.reveal());
  s.redactor.add(full);
  return new Secret(full);
}

/** A bucket's keys, in the file restic reads, taught to the redactor. */
function bucketKeys(s: Session, r: S3RepositoryDef, stack: string): Secret {
  const key = (k: 'access_key_id' | 'secret_access_key', p: BackupPasswordDef, what: string) =>
    readPassword(s, p, stack, {
      key: `stacks/${stack}/backups/repositories/${r.name}/s3/${k}`,
      what: `the ${what} of bucket repository ${r.name}`,
      hint: `the bucket's ${what} (of a key allowed to read and write the bucket).`,
    }).reveal();
  const keys = s3Keys(
    key('access_key_id', r.s3.accessKeyId, 'access key id'),
    key('secret_access_key', r.s3.secretAccessKey, 'secret access key'),
  );
  s.redactor.add(keys);
  return new Secret(keys);
}

/** The password from the environment or a file; taught to the redactor; `backup-password-unreadable` when missing. */
export function readPassword(
  s: Session,
  p: BackupPasswordDef,
  stack: string,
  about: { key: string; what: string; hint: string } = {
    key: `stacks/${stack}/backups/password`,
    what: 'the backup password',
    hint: "the repositories' password (and keep a copy of it away from the servers: without it no backup can be restored).",
  },
): Secret {
  let value: string | undefined;
  let where: string;
  if ('env' in p) {
    where = `environment variable ${p.env}`;
    value = s.io.env[p.env];
  } else {
    where = `file ${p.file}`;
    try {
      value = readFileSync(p.file, 'utf8').split('\n')[0];
    } catch {
      value = undefined;
    }
  }
  if (!value)
    throw new FerryError(
      'backup-password-unreadable',
      `${about.what} of ${stack} is not set: ${where} is ${'env' in p ? 'unset or empty' : 'missing, unreadable or empty'}`,
      about.key,
      `Set ${where} to ${about.hint}`,
      2,
    );
  s.redactor.add(value);
  return new Secret(value);
}

/** The repository named by --repository, or the stack's first; a usage error naming the others. */
export function repositoryOf(b: BackupTarget, name: string | undefined): RepoAccess {
  const repo = name ? b.repos.find((r) => r.name === name) : b.repos[0];
  if (!repo)
    throw new FerryError(
      'usage',
      `stack ${b.stack.def.name} has no repository "${name}"`,
      '--repository',
      `Its repositories: ${b.repos.map((r) => r.name).join(', ')}.`,
      2,
    );
  return repo;
}
