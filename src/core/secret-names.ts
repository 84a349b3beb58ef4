/**
 * Which names hold credentials: environment keys (`POSTGRES_PASSWORD`, `JWT_SECRET`) and
 * command-line flags (`--requirepass`, `--basic_auth`). Names are split into words at
 * `_`, `-`, `.` and camelCase; a credential word makes it one, a metadata word
 * (`PASSWORD_FILE`, `TOKEN_TTL`, `AWS_ACCESS_KEY_ID`) unmakes it.
 */

/** Whole words that name a credential. */
const WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'auth',
  'credential',
  'credentials',
  'apikey',
]);
/** Adjacent word pairs that name a credential. */
const PAIRS = ['api key', 'access key', 'private key', 'secret key', 'encryption key', 'signing key', 'master key'];
/** Word endings that name a credential (`PGPASSWORD`, `APITOKEN`). */
const SUFFIXES = ['password', 'passwd', 'secret', 'token'];
/** Whole names that hold a credential without a credential word. */
const KNOWN = new Set(['pgpassword', 'mysql_pwd', 'rediscli_auth', 'requirepass', 'masterauth']);
/** Words that make the name about a credential rather than the credential itself. */
const NOT = new Set([
  'file',
  'path',
  'dir',
  'length',
  'len',
  'min',
  'max',
  'enabled',
  'enable',
  'disabled',
  'disable',
  'required',
  'require',
  'policy',
  'type',
  'method',
  'mode',
  'url',
  'uri',
  'host',
  'port',
  'user',
  'username',
  'header',
  'endpoint',
  'provider',
  'expiry',
  'expires',
  'expire',
  'ttl',
  'timeout',
  'lifetime',
  'interval',
  'algorithm',
  'issuer',
  'audience',
  'realm',
  'name',
  'id',
  'allow',
  'empty',
  'random',
  'hash',
  'hashed',
  'strategy',
  'version',
  'plugin',
  'backend',
  'scheme',
]);

export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

export function isCredentialName(name: string): boolean {
  const bare = name.replace(/^-+/, '');
  if (KNOWN.has(bare.toLowerCase())) return true;
  const words = nameWords(bare);
  if (words.some((w) => NOT.has(w))) return false;
  if (words.some((w) => WORDS.has(w) || SUFFIXES.some((s) => w.endsWith(s)))) return true;
  const joined = ` ${words.join(' ')} `;
  return PAIRS.some((p) => joined.includes(` ${p} `));
}

const NOT_A_SECRET = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null', 'enabled', 'disabled']);

/** Values that are settings rather than credentials (`AUTH=true`). */
export function isSettingValue(value: string): boolean {
  return NOT_A_SECRET.has(value.trim().toLowerCase());
}

const URL_CREDENTIAL = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s@/]+)@/gi;

/** Passwords inside `scheme://user:password@host` URLs in a text. */
export function urlPasswords(text: string): string[] {
  return [...text.matchAll(URL_CREDENTIAL)].map((m) => m[1] ?? '').filter((p) => p !== '');
}

/** Values that cannot be credentials: numbers, versions, booleans, sizes, durations, plain paths. */
const PLAIN_VALUE =
  /^(?:-?\d+(?:\.\d+)?|v?\d+(?:\.\d+)+(?:[-+][\w.]+)?|true|false|yes|no|on|off|none|null|\d+(?:\.\d+)?\s*(?:[kmgt]i?b?|ms|s|m|h|d)|[~.]?\/[\w./-]*)$/i;

/**
 * Whether a value read from an env file must be kept out of output: always under a
 * credential name, otherwise unless it is plainly not a secret (`8080`, `2.4.1`, `true`,
 * `512M`, `/data`). Shown values are the ones Compose interpolates into image tags,
 * ports and paths; Ferry never prints an environment value itself.
 */
export function isSecretEnvValue(key: string, value: string): boolean {
  if (value === '') return false;
  return isCredentialName(key) || !PLAIN_VALUE.test(value.trim());
}
