/**
 * Which values are secrets, decided by where they are used: the value of a credential-named
 * key (`POSTGRES_PASSWORD: x`, `- DB_TOKEN=x`, a label `...basicauth.users=x`), a password
 * inside a URL, a credential on a command line (`--requirepass x`, `mysql -px`). The same
 * rules read a compose file as written (so that a literal secret is known even when the
 * file cannot be loaded), the file once interpolated (so that an `.env` value becomes a
 * secret where it lands in such a place), and env files. A value used nowhere of the kind,
 * under a name that is not a credential's (`POSTGRES_DB=app`, `LOG_LEVEL=warning`), is not
 * a secret: it stays readable wherever it is printed (service names, images, paths).
 */
import { commandCredentials } from './command-credentials.js';
import { isCredentialName, isSettingValue, urlPasswords } from './secret-names.js';

/** `KEY=value`, as environment, labels and build args are written in list form. */
const ASSIGNMENT = /^([A-Za-z_][\w.-]*)=([\s\S]*)$/;

function isSecretUnder(key: string | undefined, value: string): boolean {
  return key !== undefined && value !== '' && isCredentialName(key) && !isSettingValue(value);
}

/** Whether a value written in a compose file holds text of its own besides `${VAR}` references. */
function hasLiteral(value: string): boolean {
  return !value.includes('$') || /[A-Za-z0-9]/.test(value.replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*|\$\$/g, ''));
}

function fromString(s: string, key: string | undefined, out: string[]): void {
  if (isSecretUnder(key, s)) out.push(s);
  const assign = ASSIGNMENT.exec(s);
  if (assign && isSecretUnder(assign[1], assign[2] ?? '')) out.push(assign[2]!);
  out.push(...urlPasswords(s));
  if (/\s/.test(s)) out.push(...commandCredentials(s.trim().split(/\s+/)).map((c) => c.value));
}

/** The secret values in a tree of plain data (a compose file, a fleet file, an env file's values), once each. */
export function secretsIn(tree: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') fromString(v, key, out);
    else if (typeof v === 'number' || typeof v === 'bigint') {
      if (isSecretUnder(key, String(v))) out.push(String(v));
    } else if (Array.isArray(v)) {
      // A list of words is a command line: `["mysql", "-pSECRET"]`, `["--requirepass", "x"]`.
      const words = v.filter((x): x is string => typeof x === 'string');
      if (words.length > 1) out.push(...commandCredentials(words).map((c) => c.value));
      for (const item of v) visit(item, undefined);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, k);
    }
  };
  visit(tree, undefined);
  // `${DB_PASSWORD}` as written is no secret; the value it becomes is found in the interpolated file.
  return [...new Set(out)].filter(hasLiteral);
}
