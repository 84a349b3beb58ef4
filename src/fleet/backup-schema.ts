/**
 * `backups` in ferry.yml: fleet-wide defaults at the top level, and per stack under
 * `stacks.NAME.backups` (merged over the defaults, key by key). A stack is backed up only
 * when it has its own `backups` key. See docs/backups.md.
 */
import { z } from 'zod';
import { secretRefSchema } from './secret-ref-schema.js';
import { BACKUP_KINDS, type BackupKind } from '../model/backup.js';

const MAPPING = 'must be a mapping (indented `key: value` lines)';
const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const NAME_ERROR = 'must be a name: lower-case letters, digits, "_" and "-", starting with a letter or digit';

const absolutePath = z
  .string({ error: 'must be an absolute path such as /var/backups/ferry' })
  .regex(/^\/[^\0\s]*$/, { error: 'must be an absolute path without spaces such as /var/backups/ferry' });

export const BackupPasswordSchema = secretRefSchema('must be `{ env: NAME }` or `{ file: PATH }`').describe(
  "The repositories' password, from a secret on this machine (of a file, its first line). Ferry writes it on the server to a mode-600 file that restic reads (RESTIC_PASSWORD_FILE); it is never on a command line and never printed.",
);

const restUrl = z
  .string({ error: 'must be the URL of a restic REST server, such as https://vault.example.com:8000/shop/' })
  .regex(/^https?:\/\/[^\s@/]+(\/[^\s]*)?$/, {
    error:
      'must be an http:// or https:// URL without credentials, such as https://vault.example.com:8000/shop/ (the user and password are keys of their own)',
  });

export const BackupRestSchema = z
  .strictObject(
    {
      url: restUrl.describe("The repository's URL on a restic REST server (rest-server), without credentials."),
      user: z
        .string({ error: 'must be the user name the REST server knows' })
        .regex(/^[^\s:@/]+$/, { error: 'must be a user name without spaces, ":", "@" or "/"' })
        .optional()
        .describe("The REST server's user (its .htpasswd). With `password`."),
      password: secretRefSchema('must be `{ env: NAME }` or `{ file: PATH }`')
        .optional()
        .describe(
          "The REST server user's password, from a secret on this machine. Ferry writes the repository's URL with it on the stack's server to a mode-600 file that restic reads (--repository-file): never on a command line, never printed.",
        ),
    },
    { error: MAPPING },
  )
  .refine((r) => (r.user === undefined) === (r.password === undefined), {
    error: '`user` and `password` go together: give both, or neither for a server without authentication',
  })
  .describe('A repository on a restic REST server (`rest-server`, or any server of its protocol).');

export const BackupS3Schema = z
  .strictObject(
    {
      url: z
        .string({ error: 'must be the URL of a bucket, such as https://s3.eu-central-1.amazonaws.com/my-bucket/shop' })
        .regex(/^https?:\/\/[^\s@/]+\/[^\s/]+(\/[^\s]*)?$/, {
          error:
            'must be an http:// or https:// URL of the endpoint, then the bucket, then an optional prefix, without credentials, such as https://s3.eu-central-1.amazonaws.com/my-bucket/shop',
        })
        .describe("The repository's bucket (and prefix) at its S3 endpoint, without credentials."),
      access_key_id: secretRefSchema('must be `{ env: NAME }` or `{ file: PATH }`').describe(
        'The access key id, from a secret on this machine.',
      ),
      secret_access_key: secretRefSchema('must be `{ env: NAME }` or `{ file: PATH }`').describe(
        "The secret access key, from a secret on this machine. Ferry writes both keys on the stack's server to a mode-600 credentials file restic reads (AWS_SHARED_CREDENTIALS_FILE): never on a command line, never printed.",
      ),
      region: z
        .string({ error: 'must be a region name such as eu-central-1' })
        .regex(/^[a-z0-9-]+$/, { error: 'must be a region name such as eu-central-1' })
        .optional()
        .describe("The bucket's region, when the endpoint needs it. Default: the one the endpoint says."),
    },
    { error: MAPPING },
  )
  .describe('A repository in an S3-compatible bucket (Amazon S3, Backblaze B2, Wasabi, MinIO, Garage...).');

export const BackupRepositorySchema = z
  .strictObject(
    {
      name: z
        .string({ error: NAME_ERROR })
        .regex(NAME, { error: NAME_ERROR })
        .describe('The name the repository is known by in `ferry backup` output.'),
      path: absolutePath
        .optional()
        .describe(
          "The repository's directory: on the stack's server, or on `server` when set. Ferry adds nothing to it: give each stack its own.",
        ),
      server: z
        .string({ error: 'must be the name of a server of the fleet' })
        .regex(NAME, { error: 'must be the name of a server of the fleet' })
        .optional()
        .describe(
          "Another server of the fleet holding the repository, reached from the stack's server over SFTP with a key Ferry makes for it. Default: the stack's own server.",
        ),
      rest: BackupRestSchema.optional(),
      s3: BackupS3Schema.optional(),
    },
    { error: MAPPING },
  )
  .superRefine((r, ctx) => {
    const remote = (['rest', 's3'] as const).filter((k) => r[k] !== undefined);
    if (remote.length > 1 || (remote.length === 1 && (r.path !== undefined || r.server !== undefined)))
      ctx.addIssue({
        code: 'custom',
        path: [remote[0]!],
        message:
          'a repository is one of a `path` (with or without `server`), a REST server (`rest`) or a bucket (`s3`)',
      });
    else if (remote.length === 0 && r.path === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: "must be given: the repository's directory (or `rest` for a REST server, `s3` for a bucket)",
      });
  })
  .describe(
    'A restic repository: a directory on the stack server, on another server of the fleet over SFTP, on a restic REST server, or in an S3-compatible bucket.',
  );

const names = (what: string) =>
  z
    .union(
      [
        z.literal(false),
        z.array(z.string({ error: 'must be a name' }).min(1), { error: `must be a list of ${what} names, or false` }),
      ],
      { error: `must be a list of ${what} names, or false` },
    )
    .optional();

/** A directory to copy: `./REL` (a relative bind mount's data, kept in the stack's `shared/`) or absolute. */
const PATH_SOURCE = /^(\.\/|\/)(?!\.\.?(\/|$))(?!.*\/\.\.?(\/|$))[A-Za-z0-9_@%+=:.\/-]*[A-Za-z0-9_@%+=:.-]$/;

const paths = z
  .union(
    [
      z.literal(false),
      z.array(
        z.string({ error: 'must be a path' }).regex(PATH_SOURCE, {
          error:
            'must be `./DIR` (the data of a relative bind mount) or an absolute directory such as /srv/media: no `..`, no spaces, no trailing slash, not / itself',
        }),
        { error: 'must be a list of paths, or false' },
      ),
    ],
    { error: 'must be a list of paths, or false' },
  )
  .optional()
  .describe(
    "Directories on the server copied as files: `./DIR` names the data of a relative bind mount (kept in the stack's `shared/` directory), an absolute path any directory of the server. Default: the data of every relative bind mount but the Postgres and Redis services' own; false: none.",
  );

const days = (what: string) =>
  z.number({ error: 'must be a whole number of days from 1 to 3650' }).int().min(1).max(3650).optional().describe(what);

export const BackupRetentionSchema = z
  .strictObject(
    {
      postgres: days('Days of Postgres dumps kept. Default: 30.'),
      mysql: days('Days of MySQL and MariaDB dumps kept. Default: 30.'),
      redis: days('Days of Redis saves kept. Default: 14.'),
      volumes: days('Days of volume copies kept. Default: 30.'),
      paths: days('Days of path copies kept. Default: 30.'),
      release: days('Days of release copies (compose files, env files, configs) kept. Default: 90.'),
    },
    { error: MAPPING },
  )
  .describe('How long each kind of snapshot is kept (`restic forget --keep-within`).');

/** A systemd calendar expression (checked on the server), or false. */
const calendarValue = z
  .string({ error: 'must be a systemd calendar expression such as daily or "*-*-* 03:00", or false' })
  .regex(/^[A-Za-z0-9*:,./~ +-]+$/, {
    error:
      'must be a systemd calendar expression such as daily or "*-*-* 03:00" (letters, digits, spaces and * : , . / ~ + -)',
  });

const SCHEDULE_ERROR = `must be a systemd calendar expression (daily, "*-*-* 03:00"), false, or a mapping of \`default\` (required: when everything is backed up) and kinds (${BACKUP_KINDS.join(', ')}) to calendar expressions`;

/** A calendar per kind of source, in a schedule per kind. */
const KIND_CALENDARS = Object.fromEntries(
  BACKUP_KINDS.map((k) => [
    k,
    calendarValue
      .optional()
      .describe(`When the ${k} sources alone are backed up as well, more often than \`default\` (a run of its own).`),
  ]),
) as Record<BackupKind, z.ZodOptional<typeof calendarValue>>;

const calendar = (what: string) =>
  z
    .union([z.literal(false), calendarValue])
    .optional()
    .describe(what);

export const BackupsSchema = z
  .strictObject(
    {
      password: BackupPasswordSchema.optional(),
      repositories: z
        .array(BackupRepositorySchema, { error: 'must be a list of repositories' })
        .min(1, { error: 'must name at least one repository' })
        .optional()
        .describe('Where backups go; every backup run writes to each of them.'),
      postgres: names('Postgres service').describe(
        'Postgres services dumped (pg_dump). Default: every service whose image is Postgres; false: none.',
      ),
      redis: names('Redis service').describe(
        'Redis services saved (BGSAVE, then its RDB file). Default: every service whose image is Redis; false: none.',
      ),
      mysql: names('MySQL or MariaDB service').describe(
        'MySQL and MariaDB services dumped (mysqldump --single-transaction, every database but the system ones). Default: every service whose image is MySQL, MariaDB or Percona; false: none.',
      ),
      volumes: names('named volume').describe(
        "Named volumes of the compose project copied as files. Default: every named volume but the Postgres and Redis services' own (their data is dumped); false: none.",
      ),
      paths,
      release: z
        .boolean({ error: 'must be true or false' })
        .optional()
        .describe(
          'Whether the running release (its compose files, env files and configs, as the server runs them) is backed up. Default: true.',
        ),
      retention: BackupRetentionSchema.optional(),
      schedule: z
        .union(
          [
            z.literal(false),
            calendarValue,
            z.strictObject(
              {
                default: calendarValue.describe('When every source is backed up (a full run).'),
                ...KIND_CALENDARS,
              },
              { error: SCHEDULE_ERROR },
            ),
          ],
          { error: SCHEDULE_ERROR },
        )
        .optional()
        .describe(
          "When the server backs the stack up by itself: a systemd calendar expression (`OnCalendar=`: `daily`, `hourly`, `*-*-* 03:00`), checked by systemd-analyze on the server; a systemd timer runs the backup without Ferry. Or a schedule per kind: `{ default: daily, postgres: hourly }` backs everything up daily and the Postgres services hourly too (each run's manifest carries the other kinds over from the run before). false: no timer (a stack can turn off the fleet default). Default: none.",
        ),
      drill: calendar(
        'When the server runs a restore drill of every repository by itself (as `ferry backup drill` does: every pack read, the latest run restored into scratch containers and proven): a systemd calendar expression such as `weekly` or `Sun 04:00`. false: none. Default: none.',
      ),
      check: calendar(
        "When the server checks every repository by itself: `restic check --read-data-subset=check_read` (the repository's structure, and that share of its packs read and their hashes checked), a systemd calendar expression such as `daily`. Cheaper than a drill, so it can run more often. false: none. Default: none.",
      ),
      check_read: z
        .string({ error: 'must be a share of the packs such as 10%' })
        .regex(/^(100|[1-9][0-9]?|0?\.[0-9]*[1-9][0-9]*|[1-9][0-9]?\.[0-9]+)%$/, {
          error: 'must be a share of the packs from more than 0% to 100%, such as 10% or 2.5%',
        })
        .optional()
        .describe(
          "The share of the repository's packs each scheduled check reads (a different random share each time). Default: 10%.",
        ),
    },
    { error: MAPPING },
  )
  .describe('Backups with restic: what, where, and for how long. See docs/backups.md.');

export type BackupsEntry = z.output<typeof BackupsSchema>;

/** A REST repository's URL or password, a bucket's URL or keys: a value written there may hold a credential, and is never echoed. */
export function isRestSecretPath(path: readonly (string | number)[]): boolean {
  const at = Math.max(path.lastIndexOf('rest'), path.lastIndexOf('s3'));
  const keys = path[at] === 'rest' ? ['url', 'password'] : ['url', 'access_key_id', 'secret_access_key'];
  return at > 0 && path[at - 2] === 'repositories' && keys.includes(String(path[at + 1]));
}
