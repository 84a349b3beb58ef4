/** Where secrets named in ferry.yml are read on this machine: the process environment and files. */
import { readFileSync } from 'node:fs';
import type { SecretSource } from '../monitoring/secrets.js';
import type { CliIo } from './io.js';

export function secretSource(io: Pick<CliIo, 'env'>): SecretSource {
  return {
    env: io.env,
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}
