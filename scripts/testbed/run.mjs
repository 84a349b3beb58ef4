// Process helpers for the test bed scripts: run a command and get its result as data,
// or run it and turn a failure into a TestbedError that up/down print without a stack.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';

/** An expected failure: printed as `testbed: error: MESSAGE` (and a hint), exit 1. */
export class TestbedError extends Error {
  constructor(message, hint) {
    super(message);
    this.name = 'TestbedError';
    this.hint = hint;
  }
}

/**
 * Runs cmd with args; resolves to { code, stdout, stderr, ms } whatever the exit code.
 * opts: { input: string, inputFile: path, env: {...}, cwd, logTo: writable stream }.
 */
export function run(cmd, args = [], opts = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.logTo?.write(d);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.logTo?.write(d);
    });
    child.stdin.on('error', () => {}); // the command may exit before reading all input
    child.on('error', (err) => {
      const code = err.code === 'ENOENT' ? 127 : 126;
      resolve({ code, stdout, stderr: stderr + `${cmd}: ${err.message}\n`, ms: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      resolve({ code: code ?? 128, signal, stdout, stderr, ms: Date.now() - started });
    });
    if (opts.inputFile) createReadStream(opts.inputFile).pipe(child.stdin);
    else child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but a non-zero exit throws a TestbedError that says what failed. */
export async function must(cmd, args = [], opts = {}) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const what = opts.what ?? `${cmd} ${args.join(' ')}`;
    const out = lastLines(r.stderr.trim() || r.stdout.trim(), 15);
    throw new TestbedError(`${what} failed (exit ${r.code})${out ? `:\n${indent(out)}` : ''}`, opts.hint);
  }
  return r;
}

export function lastLines(text, n) {
  return text.split('\n').slice(-n).join('\n');
}

export function indent(text) {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls probe() every intervalMs until it returns a truthy value or timeoutMs passes. */
export async function waitFor(probe, { timeoutMs, intervalMs = 500 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}

export function log(msg) {
  console.log(`testbed: ${msg}`);
}

export function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs main(); prints a TestbedError as a plain message and exits 1. */
export async function main(fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof TestbedError) {
      console.error(`testbed: error: ${err.message}`);
      if (err.hint) console.error(`testbed: hint: ${err.hint}`);
      process.exit(1);
    }
    throw err;
  }
}
