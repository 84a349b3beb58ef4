/**
 * Commands as data. Builders return these; only a transport runs them, after `render`
 * turns them into one POSIX shell line with every word quoted by `quote`.
 */

export type Command =
  | { kind: 'argv'; argv: string[] }
  | { kind: 'pipe'; parts: Command[] }
  | { kind: 'and'; parts: Command[] }
  | { kind: 'or'; parts: Command[] }
  | { kind: 'seq'; parts: Command[] }
  /** Redirect a command's stdout to a file (`>`), or append (`>>`). */
  | { kind: 'redirect'; command: Command; path: string; append: boolean }
  /** Stderr to /dev/null. */
  | { kind: 'quiet'; command: Command }
  /**
   * Shell text written by Ferry itself, with values passed as positional arguments
   * (`$1`, `"$@"`): rendered `sh -c TEXT sh ARG...`, every argument quoted.
   */
  | { kind: 'script'; text: string; args: string[] }
  /** Constant shell text written by Ferry itself, e.g. `$(id -u)`: never with a value in it (see `script`). */
  | { kind: 'raw'; text: string };

export const cmd = (...argv: string[]): Command => ({ kind: 'argv', argv });
export const pipe = (...parts: Command[]): Command => ({ kind: 'pipe', parts });
export const and = (...parts: Command[]): Command => ({ kind: 'and', parts });
export const or = (...parts: Command[]): Command => ({ kind: 'or', parts });
export const seq = (...parts: Command[]): Command => ({ kind: 'seq', parts });
export const write = (command: Command, path: string, append = false): Command => ({
  kind: 'redirect',
  command,
  path,
  append,
});
export const quiet = (command: Command): Command => ({ kind: 'quiet', command });
/**
 * Constant shell text, written as a tagged template: raw`command -v zstd`. It takes no
 * interpolated value (its type refuses one), so that no value can reach the shell
 * unquoted: pass values with `script` instead.
 */
export function raw(text: TemplateStringsArray, ...none: never[]): Command {
  if (none.length > 0 || text.length !== 1) throw new TypeError('raw`...` takes no interpolated values; use script()');
  return { kind: 'raw', text: text[0]! };
}
/** Shell text with values as positional arguments: `script('cp "$1" "$2"', from, to)`. */
/**
 * A shell line setting variable `name` to `text` as is: a quoted here-document, nothing in
 * it expanded (the programs and queries a server-side script carries).
 */
export const literal = (name: string, text: string): string =>
  `${name}=$(cat <<'FERRY_${name}'\n${text}\nFERRY_${name}\n)`;

export const script = (text: string, ...args: string[]): Command => ({ kind: 'script', text, args });

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell: left bare when safe, else single-quoted. */
export function quote(word: string): string {
  if (word === '') return "''";
  if (SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The shell line for a command. Compound parts are grouped so that precedence is explicit. */
export function render(c: Command): string {
  switch (c.kind) {
    case 'argv':
      return c.argv.map(quote).join(' ');
    case 'raw':
      return c.text;
    case 'script':
      return ['sh', '-c', c.text, 'sh', ...c.args].map(quote).join(' ');
    case 'pipe':
      return c.parts.map(group).join(' | ');
    case 'and':
      return c.parts.map(group).join(' && ');
    case 'or':
      return c.parts.map(group).join(' || ');
    case 'seq':
      return c.parts.map(group).join('; ');
    case 'redirect':
      return `${group(c.command)} ${c.append ? '>>' : '>'} ${quote(c.path)}`;
    case 'quiet':
      return `${group(c.command)} 2>/dev/null`;
  }
}

function group(c: Command): string {
  return c.kind === 'argv' || c.kind === 'raw' || c.kind === 'script' || c.kind === 'quiet'
    ? render(c)
    : `{ ${render(c)}; }`;
}
