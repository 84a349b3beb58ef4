/** Where ferry.yml says a secret is read from: an environment variable or a file, never the value. */
import { z } from 'zod';

/** `{ env: NAME }` or `{ file: PATH }`; `error` says what is wrong with anything else, in the words of the key. */
export const secretRefSchema = (error: string) =>
  z
    .union(
      [
        z.strictObject({
          env: z
            .string({ error: 'must be an environment variable name' })
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name such as APP_SECRET' })
            .describe('Environment variable of the machine running Ferry that holds the secret.'),
        }),
        z.strictObject({
          file: z
            .string({ error: 'must be a file path' })
            .min(1)
            .describe('File on the machine running Ferry that holds the secret (relative to ferry.yml).'),
        }),
      ],
      { error },
    )
    .describe('A secret read from an environment variable (`env`) or a file (`file`), never written in ferry.yml.');
