/**
 * Every file Ferry reads or writes on this machine goes through here: an input must be a
 * regular file within a size limit (a FIFO, a device or a directory is refused before a
 * byte is read, so nothing blocks or grows without bound), directories are created one
 * level at a time (Node's recursive mkdir loops forever on some paths), and every failure
 * is a problem with a code, words instead of a system code, and a hint.
 */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatSize } from './size.js';

const MiB = 1024 * 1024;

/** Largest input of each kind: far beyond any real file, small enough to hold in memory. */
export const INPUT_LIMITS = {
  /** Compose files and the fleet file. */
  yaml: 16 * MiB,
  /** `.env` and `env_file` files. */
  env: 4 * MiB,
  /** A plan saved by `ferry plan --out`. */
  plan: 64 * MiB,
  /** Files sent to servers in a release (bind-mounted files, secrets, configs). */
  release: 256 * MiB,
  /** known_hosts, ssh config, private keys, CA bundles. */
  small: 4 * MiB,
} as const;

/** Why a file could not be used: `missing-file`, `file-unreadable` or `file-too-large`. */
export interface FileProblem {
  code: 'missing-file' | 'file-unreadable' | 'file-too-large';
  /** `file not found: compose.yml`. */
  message: string;
  /** Why, without the file's name: `not found`, `a named pipe (FIFO), not a regular file`. */
  reason: string;
  hint: string;
}

export type InputRead = { bytes: Buffer; problem?: undefined } | { bytes?: undefined; problem: FileProblem };

/** A system error's code in words (never the raw `ELOOP`). */
export function systemErrorWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ENOENT: 'not found',
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ELOOP: 'too many symbolic links (a link that points back to itself?)',
    ENAMETOOLONG: 'the path is too long',
    EISDIR: 'it is a directory',
    EEXIST: 'it already exists',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is exceeded',
    EIO: 'an input/output error',
    EMFILE: 'too many open files',
    ENXIO: 'no such device',
    EBUSY: 'the resource is busy',
  };
  if (code && words[code]) return words[code];
  return code ? `the system refused (${code})` : e instanceof Error ? e.message : String(e);
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function problemOf(e: unknown, display: string): FileProblem {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = systemErrorWords(e);
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return {
      code: 'missing-file',
      message: code === 'ENOENT' ? `file not found: ${display}` : `${display}: ${reason}`,
      reason,
      hint: 'Check the path; relative paths are resolved from the file that names them.',
    };
  return {
    code: 'file-unreadable',
    message: `cannot read ${display}: ${reason}`,
    reason,
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'Make the file readable by the user running Ferry.'
        : 'Check the path and the file; name a regular file Ferry can read.',
  };
}

function notRegular(st: Stats, display: string): FileProblem | undefined {
  if (st.isFile()) return undefined;
  const reason = `${kindOf(st)}, not a regular file`;
  return {
    code: 'file-unreadable',
    message: `${display} is ${reason}`,
    reason,
    hint: st.isDirectory()
      ? 'Name the file inside it.'
      : 'Ferry reads its inputs from regular files only; save the content to a file and name that.',
  };
}

function tooLarge(display: string, limit: number): FileProblem {
  const reason = `larger than ${formatSize(limit)}, the most Ferry reads from such a file`;
  return {
    code: 'file-too-large',
    message: `${display} is ${reason}`,
    reason,
    hint: 'Check that the path names the file you meant; no real file of this kind is that large.',
  };
}

/** `/dev/null` is read as an empty file, as ssh reads it (`-F /dev/null`: no config at all). */
const EMPTY = '/dev/null';

/** Reads a whole input file of at most `limit` bytes. Never throws, never blocks on a FIFO. */
export function readInput(absPath: string, display: string, limit: number): InputRead {
  if (absPath === EMPTY) return { bytes: Buffer.alloc(0) };
  let fd: number;
  try {
    const refused = notRegular(statSync(absPath), display);
    if (refused) return { problem: refused };
    fd = openSync(absPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { problem: problemOf(e, display) };
  }
  try {
    const st = fstatSync(fd);
    const refused = notRegular(st, display);
    if (refused) return { problem: refused };
    if (st.size > limit) return { problem: tooLarge(display, limit) };
    // Read to the end, whatever the size said (a file may grow, /proc files say 0).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 0) + 65536, limit + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) return { problem: tooLarge(display, limit) };
    }
    return { bytes: Buffer.concat(chunks, total) };
  } catch (e) {
    return { problem: problemOf(e, display) };
  } finally {
    closeSync(fd);
  }
}

/** Whether `absPath` is a regular file (following links); a problem saying why not otherwise. */
export function regularFileProblem(absPath: string, display: string): FileProblem | undefined {
  if (absPath === EMPTY) return undefined;
  try {
    return notRegular(statSync(absPath), display);
  } catch (e) {
    return problemOf(e, display);
  }
}

/**
 * Creates `dir` and its missing parents (mode `mode`), one level at a time; returns the
 * reason it cannot (in words), or undefined when the directory is there.
 */
export function ensureDir(dir: string, mode = 0o700): string | undefined {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      if (statSync(p).isDirectory()) break;
      return `${p} is not a directory`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) return `${p}: ${systemErrorWords(e)}`;
      missing.push(p);
    }
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return `cannot create ${p}: ${systemErrorWords(e)}`;
    }
  }
  return undefined;
}

/**
 * Why a file cannot be written at `absPath`, or undefined when it can (its directory
 * exists, and it is not itself a directory): checked before the work whose result it
 * keeps, so that nothing is done for a result that cannot be kept.
 */
export function unwritableReason(absPath: string): string | undefined {
  try {
    if (statSync(absPath).isDirectory()) return `${absPath} is a directory`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return systemErrorWords(e);
  }
  const dir = dirname(absPath);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  } catch (e) {
    return `the directory ${dir}: ${systemErrorWords(e)}`;
  }
  return undefined;
}

/** Writes `text` to `absPath` through a temporary file and a rename; the reason (in words) when it cannot. */
export function writeFileAtomic(absPath: string, text: string, mode: number): string | undefined {
  const before = unwritableReason(absPath);
  if (before) return before;
  const tmp = `${absPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, absPath);
    return undefined;
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* nothing left to clean up */
    }
    return systemErrorWords(e);
  }
}
