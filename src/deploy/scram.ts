/**
 * Postgres' SCRAM-SHA-256 password verifier (`SCRAM-SHA-256$ITER:SALT$STOREDKEY:SERVERKEY`,
 * RFC 5802 and 7677), made and checked here: a role's password is set by its verifier, so
 * that the password itself never reaches the server, and a password in use is recognised
 * from `pg_authid` without logging in. Pure.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const ITERATIONS = 4096;

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** What Postgres would store for `password` with `salt` and `iterations` (its SASLprep is NFKC for the passwords it maps). */
function keys(password: string, salt: Buffer, iterations: number): { stored: Buffer; server: Buffer } {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return {
    stored: createHash('sha256').update(hmac(salted, 'Client Key')).digest(),
    server: hmac(salted, 'Server Key'),
  };
}

/** A new verifier of `password`, with a random salt. */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const k = keys(password, salt, ITERATIONS);
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${k.stored.toString('base64')}:${k.server.toString('base64')}`;
}

/** Whether `verifier` (as `pg_authid.rolpassword` holds it) is one of `password`; false for anything else (md5, none). */
export function scramMatches(password: string, verifier: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier.trim());
  if (!m) return false;
  const k = keys(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
  const [stored, server] = [Buffer.from(m[3]!, 'base64'), Buffer.from(m[4]!, 'base64')];
  return (
    stored.length === k.stored.length &&
    server.length === k.server.length &&
    timingSafeEqual(stored, k.stored) &&
    timingSafeEqual(server, k.server)
  );
}
