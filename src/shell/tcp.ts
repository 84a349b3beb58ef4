/**
 * Whether a TCP connection to a server opens, with bash's /dev/tcp (no tool to install on
 * the server): as a command Ferry runs, and as a function of the scripts Ferry installs
 * on servers (the scheduled backup, the watch). One connection, nothing sent.
 */
import { cmd, quote, type Command } from './command.js';

const OPEN = 'exec 3<>"/dev/tcp/$1/$2"';
/** `$0` of the bash that opens it: the start of its error lines (`ferry-reach: line 1: …`). */
export const TCP_OPEN_NAME = 'ferry-reach';

/** Exit 0 when a connection to `host`:`port` opens within `seconds`. */
export const tcpOpen = (host: string, port: number, seconds: number): Command =>
  cmd('timeout', String(seconds), 'bash', '-c', OPEN, TCP_OPEN_NAME, host, String(port));

/** The same as a bash function: `tcp_open HOST PORT SECONDS`, bash's error lines on stderr. */
export const TCP_OPEN_FN = `tcp_open() { timeout "$3" bash -c ${quote(OPEN)} ${TCP_OPEN_NAME} "$1" "$2"; }`;
