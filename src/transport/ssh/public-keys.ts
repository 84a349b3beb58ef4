/** The public keys (`type base64`) of the private key files Ferry logs in with: for the admin user's authorized_keys. */
import ssh2 from 'ssh2';
import { INPUT_LIMITS, readInput } from '../../core/files.js';

export function publicKeysOf(paths: string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    const read = readInput(path, path, INPUT_LIMITS.small);
    if (read.problem) continue;
    const parsed = ssh2.utils.parseKey(read.bytes);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key instanceof Error) continue;
    out.push(`${key.type} ${key.getPublicSSH().toString('base64')}`);
  }
  return [...new Set(out)];
}
