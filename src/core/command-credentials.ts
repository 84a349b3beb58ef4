/**
 * Credentials written in a command line: `--password=x`, `--requirepass x`,
 * `--basic_auth=user:pass`, `PGPASSWORD=x`, `mysql -px`, `redis-cli -a x`, and
 * passwords inside URLs. Returns what was found by name, with the value for the
 * literal-or-interpolated test only; callers must never show the value.
 */
import { isCredentialName, isSettingValue, urlPasswords } from './secret-names.js';

export interface CommandCredential {
  /** How it is written, without the value: `--requirepass`, `PGPASSWORD=`, `a URL`. */
  label: string;
  value: string;
}

const MYSQL = /^(mysql|mysqladmin|mysqldump|mysqlcheck|mysqlimport|mariadb|mariadb-admin|mariadb-dump)$/;

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

function flagCredential(w: string, next: string | undefined): CommandCredential | undefined {
  const withValue = /^--?([A-Za-z][\w.-]*)=(.+)$/.exec(w);
  if (withValue) {
    const [, name = '', value = ''] = withValue;
    return isCredentialName(name) && !isSettingValue(value)
      ? { label: `--${name.replace(/^-+/, '')}=`, value }
      : undefined;
  }
  const bare = /^--([A-Za-z][\w.-]*)$/.exec(w);
  if (bare && next !== undefined && !next.startsWith('-') && isCredentialName(bare[1] ?? '') && !isSettingValue(next)) {
    return { label: w, value: next };
  }
  const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(w);
  if (assign && isCredentialName(assign[1] ?? '') && !isSettingValue(assign[2] ?? '')) {
    return { label: `${assign[1]}=`, value: assign[2] ?? '' };
  }
  return undefined;
}

/** Flags whose meaning depends on the program: `mysql -pSECRET`, `redis-cli -a SECRET`. */
function programCredential(
  program: string | undefined,
  w: string,
  next: string | undefined,
): CommandCredential | undefined {
  if (program && MYSQL.test(program) && /^-p.+/.test(w)) return { label: `${program} -p`, value: w.slice(2) };
  if (program === 'redis-cli' && w === '-a' && next !== undefined) return { label: 'redis-cli -a', value: next };
  return undefined;
}

export function commandCredentials(words: string[]): CommandCredential[] {
  const out: CommandCredential[] = [];
  let program: string | undefined;
  words.forEach((w, i) => {
    const next = words[i + 1];
    const base = basename(w);
    if (MYSQL.test(base) || base === 'redis-cli') program = base;
    const found = programCredential(program, w, next) ?? flagCredential(w, next);
    if (found) out.push(found);
    for (const value of urlPasswords(w)) out.push({ label: 'a password in a URL', value });
  });
  return out;
}
