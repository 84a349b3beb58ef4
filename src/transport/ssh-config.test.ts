import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostMatches, parseProxyJump, parseSshConfig, resolveSshHost } from './ssh-config.js';
import { TransportError } from './transport.js';

const CONFIG = `
# global options come first and apply to every host
IdentityFile ~/.ssh/id_global

Host web1 web2
  HostName %h.example.com
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web_ed25519
  IdentityFile "/keys/with space"

Host db
  HostName=10.0.0.5
  ProxyJump admin@bastion.example.com:2200
  IdentityFile %d/.ssh/%r-%h

Host *.internal !secret.internal
  User ops
  ProxyJump none

Match host web1
  User never-used

Host *
  User root
  Port 22
  IdentityFile ~/.ssh/id_ed25519
`;

const sections = parseSshConfig(CONFIG);
const resolve = (alias: string) => resolveSshHost(sections, alias, '/home/me/.ssh/config', '/home/me');

test('an alias takes HostName (with %h), User, Port and every IdentityFile, first value winning', () => {
  assert.deepEqual(resolve('web1'), {
    hostName: 'web1.example.com',
    user: 'deploy',
    port: 2222,
    identityFiles: [
      '/home/me/.ssh/id_global',
      '/home/me/.ssh/web_ed25519',
      '/keys/with space',
      '/home/me/.ssh/id_ed25519',
    ],
  });
});

test('key=value syntax, ProxyJump, and %d %r %h in IdentityFile', () => {
  assert.deepEqual(resolve('db'), {
    hostName: '10.0.0.5',
    user: 'root',
    port: 22,
    proxyJump: 'admin@bastion.example.com:2200',
    identityFiles: ['/home/me/.ssh/id_global', '/home/me/.ssh/root-10.0.0.5', '/home/me/.ssh/id_ed25519'],
  });
});

test('wildcards and negation pick sections; ProxyJump none means no hop; Match blocks never apply', () => {
  assert.equal(resolve('cache.internal').user, 'ops');
  assert.equal(resolve('cache.internal').proxyJump, undefined);
  assert.equal(resolve('secret.internal').user, 'root');
  assert.equal(resolve('203.0.113.9').hostName, undefined);
  assert.equal(hostMatches(['web?'], 'web7'), true);
  assert.equal(hostMatches(['web?'], 'web10'), false);
  assert.equal(hostMatches(['*', '!db'], 'db'), false);
  assert.equal(hostMatches([], 'web1'), false);
});

test('a bad Port names the file and line', () => {
  const bad = parseSshConfig('Host x\n  Port 22a\n');
  assert.throws(
    () => resolveSshHost(bad, 'x', '/home/me/.ssh/config', '/home/me'),
    (e: unknown) =>
      e instanceof TransportError &&
      e.code === 'ssh-config' &&
      e.message === '/home/me/.ssh/config:2: Port must be a whole number from 1 to 65535, got "22a"' &&
      e.hint === 'fix the Port line in /home/me/.ssh/config',
  );
});

test('ProxyJump hops in every accepted form', () => {
  assert.deepEqual(parseProxyJump('bastion', 'db'), [{ host: 'bastion' }]);
  assert.deepEqual(parseProxyJump('admin@bastion:2200', 'db'), [{ host: 'bastion', user: 'admin', port: 2200 }]);
  assert.deepEqual(parseProxyJump('ssh://a@one:22,two', 'db'), [{ host: 'one', user: 'a', port: 22 }, { host: 'two' }]);
  assert.deepEqual(parseProxyJump('u@[::1]:2222', 'db'), [{ host: '::1', user: 'u', port: 2222 }]);
  assert.deepEqual(parseProxyJump('none', 'db'), []);
  assert.throws(() => parseProxyJump('a@b@c', 'db'), /ProxyJump "a@b@c" is not of the form \[user@\]host\[:port\]/);
  assert.throws(
    () => parseProxyJump('b:70000', 'db'),
    /the port in ProxyJump "b:70000" must be a whole number from 1 to 65535/,
  );
});
