import { test } from 'node:test';
import assert from 'node:assert/strict';
import { and, cmd, or, pipe, quiet, quote, raw, render, script, seq, write } from './command.js';

test('quote leaves safe words bare and single-quotes the rest', () => {
  assert.equal(quote('docker'), 'docker');
  assert.equal(quote('/var/lib/ferry'), '/var/lib/ferry');
  assert.equal(quote(''), "''");
  assert.equal(quote('a b'), "'a b'");
  assert.equal(quote("it's"), "'it'\\''s'");
  assert.equal(quote('$(rm -rf /)'), "'$(rm -rf /)'");
  assert.equal(quote('x;y|z&w`v`'), "'x;y|z&w`v`'");
  assert.equal(quote('{{.Names}}'), "'{{.Names}}'");
});

test('render builds exact shell lines with explicit grouping', () => {
  assert.equal(render(cmd('docker', 'ps', '--format', '{{json .}}')), "docker ps --format '{{json .}}'");
  assert.equal(render(pipe(cmd('docker', 'save', 'app:1'), cmd('zstd', '-q'))), 'docker save app:1 | zstd -q');
  assert.equal(
    render(and(cmd('mkdir', '-p', '/srv/app'), or(cmd('test', '-f', 'x'), cmd('touch', 'x')))),
    'mkdir -p /srv/app && { test -f x || touch x; }',
  );
  assert.equal(render(seq(quiet(cmd('uname', '-r')), raw`echo $?`)), 'uname -r 2>/dev/null; echo $?');
  assert.equal(render(write(cmd('echo', 'a b'), '/tmp/my file', true)), "echo 'a b' >> '/tmp/my file'");
});

test('script passes values as positional arguments, quoted, never inside the text', () => {
  assert.equal(render(script('cp "$1" "$2"', '/a b', "it's")), `sh -c 'cp "$1" "$2"' sh '/a b' 'it'\\''s'`);
  assert.equal(render(and(script('test -d "$1"', '/srv'), cmd('true'))), `sh -c 'test -d "$1"' sh /srv && true`);
  const hostile = '$(touch /tmp/pwned); `id`';
  const line = render(script('echo "$1"', hostile));
  assert.equal(line, `sh -c 'echo "$1"' sh '$(touch /tmp/pwned); \`id\`'`);
});
