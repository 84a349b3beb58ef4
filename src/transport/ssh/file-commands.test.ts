import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../../shell/command.js';
import { downloadCommand, sudoLine, uploadCommand } from './file-commands.js';

test('upload: mktemp next to the target, mode and owner before content, content from stdin, then an atomic mv', () => {
  assert.equal(
    render(uploadCommand('/srv/app/.env', 0o600, 'app:app')),
    '{ tmp=$(mktemp /srv/app/.env.ferry-XXXXXX) && chmod 600 "$tmp" && chown app:app "$tmp" && cat > "$tmp" && mv -f "$tmp" /srv/app/.env; } || { rm -f "$tmp"; false; }',
  );
  assert.equal(
    render(uploadCommand('/srv/my app/compose.yml', 0o644)),
    `{ tmp=$(mktemp '/srv/my app/.compose.yml.ferry-XXXXXX') && chmod 644 "$tmp" && cat > "$tmp" && mv -f "$tmp" '/srv/my app/compose.yml'; } || { rm -f "$tmp"; false; }`,
  );
  assert.equal(render(uploadCommand('/usr/local/bin/x', 0o4755)).includes('chmod 4755 "$tmp"'), true);
});

test('upload with sudo wraps the whole line once, quoted for sh -c', () => {
  assert.equal(
    sudoLine(render(uploadCommand('/etc/ferry/key', 0o600))),
    `sudo -n sh -c '{ tmp=$(mktemp /etc/ferry/.key.ferry-XXXXXX) && chmod 600 "$tmp" && cat > "$tmp" && mv -f "$tmp" /etc/ferry/key; } || { rm -f "$tmp"; false; }'`,
  );
  assert.equal(sudoLine("echo 'a b'"), `sudo -n sh -c 'echo '\\''a b'\\'''`);
});

test('upload refuses relative paths and impossible modes; download is cat --', () => {
  assert.throws(() => uploadCommand('srv/app/.env', 0o600), /remote paths must be absolute, got "srv\/app\/.env"/);
  assert.throws(() => uploadCommand('/srv/x', 0o10000), /upload mode must be from 0 to 0o7777, got 4096/);
  assert.throws(() => uploadCommand('/srv/x', 1.5), /upload mode/);
  assert.equal(render(downloadCommand('/srv/app/compose.yml')), 'cat -- /srv/app/compose.yml');
  assert.equal(render(downloadCommand('/srv/a b')), "cat -- '/srv/a b'");
});
