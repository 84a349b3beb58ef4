/**
 * One classifier per tool: a command's result becomes a StepError with a code from the
 * typed list, a message naming the host and what was being done, a redacted tail of the
 * tool's words of one fixed length, and a hint. A tool that reports an error in its output
 * (`NOAUTH` from redis-cli, `ERROR:` from psql) fails at once, whatever its exit status.
 */
import { StepError } from '../engine/errors.js';
import type { ExecResult } from '../transport/transport.js';
import type { StepErrorCode } from './codes.js';

export type Tool =
  'docker' | 'compose' | 'psql' | 'mysql' | 'redis-cli' | 'rsync' | 'certbot' | 'systemctl' | 'nginx' | 'restic';

/** How much of a tool's words an error keeps: the last lines, at most this many characters. */
export const TAIL_LINES = 8;
export const TAIL_CHARS = 800;

interface Known {
  /** Matched against stderr and stdout. */
  match: RegExp;
  code: StepErrorCode;
  hint: string;
}

interface ToolRules {
  /** When the exit status is not 0 and nothing known matched. */
  code: StepErrorCode;
  hint: string;
  /** Errors the tool reports in its output even when it exits 0. */
  inOutput?: RegExp;
  known: Known[];
}

const LOGS = '`ferry runs show` has the whole run.';

/**
 * What an S3 endpoint answers when it refuses a repository's keys (AWS, MinIO, s3rver), as
 * an extended regular expression: read here and by the server's runner (`grep -E`).
 */
export const BUCKET_REFUSED =
  'Access Key Id you provided does not exist|InvalidAccessKeyId|SignatureDoesNotMatch|request signature we calculated does not match|Access Denied';

const COMMON: Known[] = [
  { match: /no space left on device/i, code: 'no-space', hint: 'Free space on the server (`df -h`), then run again.' },
  {
    match: /permission denied/i,
    code: 'permission-denied',
    hint: 'Run as root, or set `sudo: true` for the server in ferry.yml.',
  },
  { match: /command not found|: not found$/m, code: 'command-not-found', hint: 'Install the tool on the server.' },
];

const RULES: Record<Tool, ToolRules> = {
  docker: {
    code: 'docker-failed',
    hint: `Read docker's words above; ${LOGS}`,
    known: [
      {
        match: /Cannot connect to the Docker daemon|Is the docker daemon running/i,
        code: 'docker-unavailable',
        hint: 'Start Docker on the server (`systemctl start docker`), then run again.',
      },
      {
        match: /No such container/i,
        code: 'container-missing',
        hint: 'The container is gone: run `ferry apply` to bring the stack up.',
      },
    ],
  },
  compose: {
    code: 'compose-failed',
    hint: `Read Compose's words above; fix the compose file or the server, then run apply again. ${LOGS}`,
    known: [
      {
        match: /unknown (shorthand flag|command).*compose|'compose' is not a docker command|docker-compose: not found/i,
        code: 'compose-missing',
        hint: 'Install Compose on the server (the `docker compose` plugin, or docker-compose).',
      },
      {
        match: /Cannot connect to the Docker daemon/i,
        code: 'docker-unavailable',
        hint: 'Start Docker on the server (`systemctl start docker`), then run again.',
      },
    ],
  },
  psql: {
    code: 'psql-failed',
    hint: `Read Postgres' words above; ${LOGS}`,
    inOutput: /^(?:psql:[^\n]*)?(?:ERROR|FATAL|PANIC):/m,
    known: [
      {
        match: /password authentication failed|no password supplied|role "[^"]*" does not exist/i,
        code: 'database-auth-failed',
        hint: "Check the database's user and password in the stack's environment.",
      },
      {
        match:
          /could not connect to server|connection refused|is the server running|the database system is (starting up|shutting down)/i,
        code: 'database-not-running',
        hint: 'Start the database (or wait until it accepts connections), then run again.',
      },
    ],
  },
  mysql: {
    code: 'mysql-failed',
    hint: `Read the database's words above; ${LOGS}`,
    inOutput: /^ERROR \d+ \([0-9A-Z]+\)/m,
    known: [
      {
        match: /Access denied for user|no root password and no MARIADB_USER/i,
        code: 'database-auth-failed',
        hint: "Ferry logs in with the service's own environment (MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD, their _FILE forms, else MARIADB_USER or MYSQL_USER and its password): check that it still opens the database.",
      },
      {
        match:
          /Can't connect to (local )?(MySQL|MariaDB) server|Lost connection to (MySQL|MariaDB) server|does not accept connections/i,
        code: 'database-not-running',
        hint: 'Start the database (or wait until it accepts connections), then run again.',
      },
    ],
  },
  'redis-cli': {
    code: 'redis-failed',
    hint: `Read Redis's words above; ${LOGS}`,
    inOutput: /^\(error\) |^(?:NOAUTH|WRONGPASS|NOPERM|ERR|READONLY|LOADING|MISCONF|BUSY)\b/m,
    known: [
      {
        match: /NOAUTH|WRONGPASS|invalid password|NOPERM/i,
        code: 'redis-auth-failed',
        hint: "Redis asks for a password: Ferry reads it from the service's `--requirepass` or `REDIS_PASSWORD`; check that one of them is set where the service runs.",
      },
    ],
  },
  rsync: {
    code: 'sync-failed',
    hint: `Read rsync's words above; ${LOGS}`,
    known: [],
  },
  certbot: {
    code: 'acme-failed',
    hint: "Read certbot's words above; its log on the host is /var/log/letsencrypt/letsencrypt.log.",
    known: [{ match: /certbot: (command )?not found/i, code: 'acme-missing', hint: 'Install certbot on the server.' }],
  },
  systemctl: {
    code: 'systemctl-failed',
    hint: 'Read `systemctl status UNIT` and `journalctl -u UNIT` on the server.',
    known: [
      {
        match: /Unit \S+ (not found|could not be found)/i,
        code: 'unit-missing',
        hint: 'The unit is not installed: run apply again.',
      },
      {
        match: /System has not been booted with systemd|Failed to connect to bus/i,
        code: 'no-systemd',
        hint: 'The server does not run systemd.',
      },
    ],
  },
  nginx: {
    code: 'nginx-config-invalid',
    hint: 'Read `nginx -t` on the server; Ferry left the previous configuration in place.',
    known: [
      {
        match: /signal process started|\[alert\].*kill\(|nginx\.pid/i,
        code: 'nginx-reload-failed',
        hint: 'nginx did not reload: `systemctl status nginx` on the server.',
      },
    ],
  },
  restic: {
    code: 'restic-failed',
    hint: `Read restic's words above; ${LOGS}`,
    known: [
      {
        match: /wrong password or no key found/i,
        code: 'backup-wrong-password',
        hint: "The password does not open the repository: give `backups.password` the repository's own password (restic keeps it in the repository's keys; a new password needs `restic key add`).",
      },
      {
        match: new RegExp(BUCKET_REFUSED, 'i'),
        code: 'backup-repository-unauthorized',
        hint: "The bucket refuses the repository's keys: give `s3.access_key_id` and `s3.secret_access_key` those of a key allowed to read and write the bucket (and its prefix), then run again.",
      },
      {
        match: /repository does not exist|Is there a repository at the following location/i,
        code: 'backup-repository-missing',
        hint: 'Run `ferry backup run STACK`, which creates the repository, or fix its `path`.',
      },
      {
        match: /already locked|unable to create lock/i,
        code: 'backup-repository-locked',
        hint: 'Another restic works on the repository: wait for it, or (when none runs) `restic unlock`.',
      },
      {
        match:
          /ciphertext verification failed|does not match|pack [0-9a-f]+.*(errors|invalid|damaged)|repository contains errors|errors were found|unexpected EOF while reading|invalid data returned/i,
        code: 'backup-corrupt',
        hint: 'The repository is damaged: keep it aside, back up to a new repository now (`restic repair packs` may save older snapshots).',
      },
      {
        match: /unexpected HTTP response \((401|403)\)/i,
        code: 'backup-repository-unauthorized',
        hint: "The REST server refuses the repository's user and password: give `rest.user` and `rest.password` those its .htpasswd holds (and, with --private-repos, a URL under the user's own name), then run again.",
      },
      {
        match:
          /unable to start the sftp session|subprocess ssh|ssh: connect to host|Connection (refused|timed out|closed|reset)|No route to host|Could not resolve hostname|no such host|i\/o timeout|Permission denied \(publickey/i,
        code: 'backup-repository-unreachable',
        hint: "The repository's server cannot be reached from the stack's server (over SSH for a repository on a server of the fleet, HTTP for a REST server): check that it runs, that the port is open to the stack's server, and for SSH that the backup key is still authorized (`ferry backup run` authorizes it again).",
      },
    ],
  },
};

/** What restic's exit statuses mean (restic 0.17 and later). */
const RESTIC_EXITS: Record<number, string> = {
  3: 'some source data could not be read',
  10: 'no repository there',
  11: 'the repository is locked',
  12: 'wrong password',
};

/** What rsync's exit statuses mean (rsync(1)). */
const RSYNC_EXITS: Record<number, string> = {
  1: 'syntax or usage error',
  5: 'error starting client-server protocol',
  10: 'error in socket I/O',
  11: 'error in file I/O',
  12: 'error in rsync protocol data stream',
  23: 'partial transfer due to error',
  24: 'partial transfer due to vanished source files',
  30: 'timeout in data send/receive',
  35: 'timeout waiting for daemon connection',
  255: 'the ssh connection failed',
};

/** The last TAIL_LINES lines of a tool's words, at most TAIL_CHARS characters, redacted. */
export function toolTail(text: string, redact: (s: string) => string): string {
  const tail = text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return redact(tail.length > TAIL_CHARS ? `…${tail.slice(-TAIL_CHARS)}` : tail);
}

export interface Doing {
  host: string;
  /** What was being done, e.g. `compose up of release 3f2a`. */
  what: string;
  redact: (s: string) => string;
}

/** The StepError for a result, or undefined when the tool succeeded. */
export function toolFailure(
  tool: Tool,
  r: Pick<ExecResult, 'code' | 'stdout' | 'stderr'>,
  d: Doing,
): StepError | undefined {
  const rules = RULES[tool];
  const reported = rules.inOutput && (rules.inOutput.test(r.stdout) || rules.inOutput.test(r.stderr));
  if (r.code === 0 && !reported) return undefined;
  const words = [r.stderr, r.stdout].filter((s) => s.trim() !== '').join('\n');
  const known = [...rules.known, ...COMMON].find((k) => k.match.test(words));
  const status = r.code === 0 ? 'reported an error' : `failed (exit ${r.code}${exitNote(tool, r.code)})`;
  const tail = toolTail(words, d.redact);
  const message = d.redact(`${d.host}: ${d.what}: ${tool} ${status}`) + (tail ? `:\n${tail}` : '');
  return new StepError(known?.code ?? rules.code, message, known?.hint ?? rules.hint);
}

/** Throws the tool's StepError unless it succeeded; returns its stdout. */
export function expectOk(tool: Tool, r: ExecResult, d: Doing): string {
  const e = toolFailure(tool, r, d);
  if (e) throw e;
  return r.stdout;
}

function exitNote(tool: Tool, code: number): string {
  if (tool === 'rsync' && RSYNC_EXITS[code]) return `: ${RSYNC_EXITS[code]}`;
  if (tool === 'restic' && RESTIC_EXITS[code]) return `: ${RESTIC_EXITS[code]}`;
  if (code === 127) return ': command not found';
  if (code === 137) return ': killed';
  return '';
}
