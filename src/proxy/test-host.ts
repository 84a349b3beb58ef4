/**
 * For the proxy's unit tests: a RecordingTransport that keeps the files it is given,
 * uploaded or copied (`cp -p`), and answers `sha256sum`, `test -e` and `rm -f` from them,
 * so that a step's phases can run one after another; and the calls as lines to compare.
 */
import { createHash } from 'node:crypto';
import { isSecret, type Secret } from '../core/secret.js';
import { RecordingTransport, type RecordedCall } from '../transport/recording.js';
import type { UploadOptions } from '../transport/transport.js';

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const after = (prefix: string) => (line: string) => line.slice(prefix.length);

export class FileHost extends RecordingTransport {
  readonly fs = new Map<string, string>();

  constructor(name: string, files: Record<string, string> = {}) {
    super(name);
    for (const [path, content] of Object.entries(files)) this.put(path, content);
    const sum = after('sha256sum ');
    this.when(/^sha256sum \S+$/, (line) => {
      const content = this.fs.get(sum(line));
      return content === undefined
        ? { code: 1, stderr: `sha256sum: ${sum(line)}: No such file or directory\n` }
        : { stdout: `${sha(content)}  ${sum(line)}\n` };
    });
    this.when(/^test -e \S+$/, (line) => ({ code: this.fs.has(after('test -e ')(line)) ? 0 : 1 }));
    this.when(/^mkdir -p -m 700 \S+ && cp -p \S+ \S+$/, (line) => {
      const [from, to] = line.split(' ').slice(-2) as [string, string];
      const content = this.fs.get(from);
      if (content === undefined) return { code: 1, stderr: `cp: cannot stat '${from}': No such file or directory\n` };
      this.put(to, content);
      return {};
    });
    this.when(/^rm -f \S+$/, (line) => {
      this.fs.delete(after('rm -f ')(line));
      return {};
    });
    this.when(/^mkdir -p -m 755 \S+$/, {});
  }

  put(path: string, content: string): this {
    this.fs.set(path, content);
    return this.file(path, content);
  }

  override async upload(path: string, content: string | Buffer | Secret, opts: UploadOptions): Promise<void> {
    await super.upload(path, content, opts);
    this.fs.set(path, isSecret(content) ? content.reveal() : content.toString());
  }

  /** The calls since the last `take`, as lines: exec lines, `upload PATH MODE "CONTENT"`, `download PATH`. */
  take(): string[] {
    const out = this.calls.slice(this.taken).map(described);
    this.taken = this.calls.length;
    return out;
  }
  private taken = 0;
}

export function described(c: RecordedCall): string {
  if (c.kind === 'exec') return c.line;
  if (c.kind === 'download') return `download ${c.path}`;
  const content = isSecret(c.content) ? '(secret)' : JSON.stringify(c.content.toString());
  return `upload ${c.path} ${c.mode.toString(8)} ${content}`;
}
