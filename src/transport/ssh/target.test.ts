import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSshConfig } from '../ssh-config.js';
import { resolveTarget } from './target.js';

const config = parseSshConfig(`
Host web1
  HostName 203.0.113.20
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web
  ProxyJump bastion
Host bastion
  HostName 198.51.100.7
  User jump
  IdentityFile ~/.ssh/jump
`);
const env = { config, configPath: '/home/me/.ssh/config', home: '/home/me' };

test('a bare address takes Ferry defaults', () => {
  assert.deepEqual(resolveTarget({ name: 'db', host: '10.0.0.5' }, env), {
    name: 'db',
    endpoint: {
      host: '10.0.0.5',
      port: 22,
      user: 'root',
      identityFiles: ['/home/me/.ssh/id_ed25519', '/home/me/.ssh/id_ecdsa', '/home/me/.ssh/id_rsa'],
    },
    jumps: [],
    sudo: false,
    knownHostsFiles: ['/home/me/.ssh/known_hosts', '/etc/ssh/ssh_known_hosts'],
    trustNewHostKey: false,
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 900_000,
  });
});

test('an alias resolves through ~/.ssh/config, its ProxyJump alias too', () => {
  const t = resolveTarget({ name: 'web', host: 'web1' }, env);
  assert.deepEqual(t.endpoint, {
    host: '203.0.113.20',
    port: 2222,
    user: 'deploy',
    identityFiles: ['/home/me/.ssh/web'],
  });
  assert.deepEqual(t.jumps, [{ host: '198.51.100.7', port: 22, user: 'jump', identityFiles: ['/home/me/.ssh/jump'] }]);
});

test('values written for the target win over the config', () => {
  const t = resolveTarget(
    {
      name: 'web',
      host: 'web1',
      port: 22,
      user: 'root',
      identityFiles: ['~/.ssh/ferry'],
      knownHostsFiles: ['~/kh'],
      proxyJump: 'admin@10.0.0.1:2200',
      sudo: true,
      trustNewHostKey: true,
      connectTimeoutMs: 500,
      commandTimeoutMs: 1000,
    },
    env,
  );
  assert.deepEqual(t.endpoint, {
    host: '203.0.113.20',
    port: 22,
    user: 'root',
    identityFiles: ['/home/me/.ssh/ferry'],
  });
  // A jump that is no alias uses the target's keys.
  assert.deepEqual(t.jumps, [{ host: '10.0.0.1', port: 2200, user: 'admin', identityFiles: ['/home/me/.ssh/ferry'] }]);
  assert.deepEqual(
    [t.sudo, t.trustNewHostKey, t.connectTimeoutMs, t.commandTimeoutMs, t.knownHostsFiles],
    [true, true, 500, 1000, ['/home/me/kh']],
  );
});
