import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../../shell/command.js';
import { downloadCommand, sudoLine, uploadCommand } from './file-commands.js';

const UPLOAD = `'tmp=$(mktemp "$1") && chmod "$2" "$tmp" && { [ -z "$3" ] || chown "$3" "$tmp"; } && cat > "$tmp" && mv -f "$tmp" "$4" || { rm -f "$tmp"; false; }'`;

test('upload: mktemp next to the target, mode and owner before content, content from stdin, then an atomic mv', () => {
  assert.equal(
    render(uploadCommand('/srv/app/.env', 0o600, 'app:app')),
    `sh -c ${UPLOAD} sh /srv/app/.env.ferry-XXXXXX 600 app:app /srv/app/.env`,
  );
  assert.equal(
    render(uploadCommand('/srv/my app/compose.yml', 0o644)),
    `sh -c ${UPLOAD} sh '/srv/my app/.compose.yml.ferry-XXXXXX' 644 '' '/srv/my app/compose.yml'`,
  );
  assert.equal(render(uploadCommand('/usr/local/bin/x', 0o4755)).includes(' 4755 '), true);
  // A hostile path stays one argument.
  assert.equal(
    render(uploadCommand("/srv/$(id)'x", 0o600)),
    `sh -c ${UPLOAD} sh '/srv/.$(id)'\\''x.ferry-XXXXXX' 600 '' '/srv/$(id)'\\''x'`,
  );
});

test('upload with sudo wraps the whole line once, quoted for sh -c', () => {
  assert.equal(sudoLine("echo 'a b'"), `sudo -n sh -c 'echo '\\''a b'\\'''`);
  assert.equal(
    sudoLine(render(uploadCommand('/etc/ferry/key', 0o600))).startsWith(`sudo -n sh -c 'sh -c '\\''tmp=$(mktemp`),
    true,
  );
});

test('upload refuses relative paths and impossible modes; download is cat --', () => {
  assert.throws(() => uploadCommand('srv/app/.env', 0o600), /remote paths must be absolute, got "srv\/app\/.env"/);
  assert.throws(() => uploadCommand('/srv/x', 0o10000), /upload mode must be from 0 to 0o7777, got 4096/);
  assert.throws(() => uploadCommand('/srv/x', 1.5), /upload mode/);
  assert.equal(render(downloadCommand('/srv/app/compose.yml')), 'cat -- /srv/app/compose.yml');
  assert.equal(render(downloadCommand('/srv/a b')), "cat -- '/srv/a b'");
});
