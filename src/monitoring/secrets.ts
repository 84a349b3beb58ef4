/**
 * The receivers' secret files: each receiver's URL, token or password, read from the
 * environment variable or file ferry.yml names, as a `Secret` to be written beside
 * alertmanager.yml (which names only the file). Reading the environment and files is
 * passed in, so that this stays a pure function of what it is given.
 */
import { FerryError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { ReceiverDef, SecretRef } from '../model/monitoring.js';
import { HEARTBEAT } from './render/alertmanager.js';

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  /** The text of a file, or undefined when it cannot be read. */
  readFile: (path: string) => string | undefined;
}

export interface SecretFile {
  /** Relative to the directory of alertmanager.yml. */
  rel: string;
  content: Secret;
}

export function receiverSecretRef(r: ReceiverDef): SecretRef | undefined {
  if (r.type === 'telegram') return r.token;
  if (r.type === 'email') return r.password;
  return r.url;
}

/** A receiver's secret, undefined when it has none; a missing or empty one is a `monitoring-secret-missing` error. */
export function receiverSecret(r: ReceiverDef, source: SecretSource): Secret | undefined {
  const ref = receiverSecretRef(r);
  if (!ref) return undefined;
  return r.name === HEARTBEAT
    ? readSecret(ref, source, 'monitoring/heartbeat/url', 'the heartbeat URL')
    : readSecret(ref, source, `monitoring/receivers/${r.name}`, `the secret of receiver "${r.name}" (${r.type})`);
}

/** A secret `what` (said in the error) read from where `ref` says; `place`: its key in ferry.yml. */
export function readSecret(ref: SecretRef, source: SecretSource, place: string, what: string): Secret {
  const value = ('env' in ref ? source.env[ref.env] : source.readFile(ref.file))?.trim();
  if (!value) throw missing(what, ref, place);
  return new Secret(value);
}

/** One file per receiver that has a secret. */
export function receiverSecretFiles(receivers: readonly ReceiverDef[], source: SecretSource): SecretFile[] {
  return receivers.flatMap((r) => {
    const content = receiverSecret(r, source);
    return content ? [{ rel: `secrets/${r.name}`, content }] : [];
  });
}

function missing(what: string, ref: SecretRef, place: string): FerryError {
  const where = 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
  return new FerryError(
    'monitoring-secret-missing',
    `${what} is missing: the ${where} is ${'env' in ref ? 'not set or empty' : 'unreadable or empty'}`,
    place,
    'env' in ref
      ? `Export ${ref.env} on this machine, then run the command again.`
      : `Write the secret into ${ref.file}, then run the command again.`,
    2,
  );
}
