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
  'basicauth',
  'digestauth',
  'htpasswd',
  'dsn',
  'salt',
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
  const last = words[words.length - 1];
  // A webhook's URL is its credential (`SLACK_WEBHOOK_URL`): the token is in the path.
  if (words.includes('webhook') && (last === 'url' || last === 'uri' || last === 'webhook')) return true;
  if (words.some((w) => NOT.has(w))) return false;
  if (words.some((w) => WORDS.has(w) || SUFFIXES.some((s) => w.endsWith(s)))) return true;
  // `STRIPE_KEY`, `LICENSE_KEY`, `stripeKeys`: a key named last is the key itself.
  if (words.length > 0 && (last === 'key' || last === 'keys')) return true;
  const joined = ` ${words.join(' ')} `;
  return PAIRS.some((p) => joined.includes(` ${p} `));
}

const NOT_A_SECRET = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null', 'enabled', 'disabled']);

/** Values that are settings rather than credentials (`AUTH=true`). */
export function isSettingValue(value: string): boolean {
  return NOT_A_SECRET.has(value.trim().toLowerCase());
}

const SCHEME_CHAR = /[a-z0-9+.-]/i;
const LETTER = /[a-z]/i;

/** Index of the first of `stops` (or whitespace) at or after `from`; the text's length when none. */
function runEnd(text: string, from: number, stops: string): number {
  let i = from;
  while (i < text.length && !stops.includes(text.charAt(i)) && !/\s/.test(text.charAt(i))) i++;
  return i;
}

/**
 * Passwords inside `scheme://user:password@host` URLs in a text. Read by hand, from each
 * `://`, in one pass: a regular expression for it backtracks over long runs of letters.
 */
export function urlPasswords(text: string): string[] {
  const out: string[] = [];
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    // A scheme right before it: letters, digits, `+`, `.`, `-`, starting with a letter.
    let s = at;
    while (s > 0 && SCHEME_CHAR.test(text.charAt(s - 1))) s--;
    if (!LETTER.test(text.slice(s, at))) continue;
    const user = runEnd(text, at + 3, ':@/');
    if (text.charAt(user) !== ':') continue;
    const pass = runEnd(text, user + 1, '@/');
    if (text.charAt(pass) === '@' && pass > user + 1) out.push(text.slice(user + 1, pass));
  }
  return out;
}
