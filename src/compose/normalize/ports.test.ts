import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import { normalizePorts, parsePortRange, parsePortSpec } from './ports.js';

const ctx = (): Ctx => ({ service: 'web', findings: [] });

function one(entry: unknown) {
  const c = ctx();
  const ports = normalizePorts([entry], c);
  assert.deepEqual(c.findings, [], `no findings for ${JSON.stringify(entry)}`);
  assert.equal(ports.length, 1);
  return ports[0];
}

test('short syntax: container port only', () => {
  assert.deepEqual(one('80'), { target: 80, targetEnd: 80, protocol: 'tcp', index: 0 });
});

test('short syntax: host and container port', () => {
  assert.deepEqual(one('8080:80'), {
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8080,
    index: 0,
  });
});

test('short syntax: IPv4 host address', () => {
  assert.deepEqual(one('127.0.0.1:8080:80'), {
    hostIp: '127.0.0.1',
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8080,
    index: 0,
  });
});

test('short syntax: bracketed IPv6 host address', () => {
  assert.deepEqual(one('[::1]:8080:80'), {
    hostIp: '::1',
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8080,
    index: 0,
  });
});

test('short syntax: bare IPv6 host address takes everything before the last two parts', () => {
  assert.deepEqual(one('::1:8080:80'), {
    hostIp: '::1',
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8080,
    index: 0,
  });
  assert.deepEqual(one('fe80::1:9000:90'), {
    hostIp: 'fe80::1',
    target: 90,
    targetEnd: 90,
    protocol: 'tcp',
    published: 9000,
    publishedEnd: 9000,
    index: 0,
  });
});

test('short syntax: equal ranges stay one mapping', () => {
  assert.deepEqual(one('8000-8010:8000-8010'), {
    target: 8000,
    targetEnd: 8010,
    protocol: 'tcp',
    published: 8000,
    publishedEnd: 8010,
    index: 0,
  });
  assert.deepEqual(one('9090-9091:8080-8081'), {
    target: 8080,
    targetEnd: 8081,
    protocol: 'tcp',
    published: 9090,
    publishedEnd: 9091,
    index: 0,
  });
});

test('short syntax: host range with a single container port is a range to pick from', () => {
  assert.deepEqual(one('8080-8081:80'), {
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8081,
    index: 0,
  });
});

test('short syntax: protocols, lower-cased', () => {
  assert.deepEqual(one('49100:22/udp'), {
    target: 22,
    targetEnd: 22,
    protocol: 'udp',
    published: 49100,
    publishedEnd: 49100,
    index: 0,
  });
  assert.deepEqual(one('5000/sctp'), { target: 5000, targetEnd: 5000, protocol: 'sctp', index: 0 });
  assert.deepEqual(one('53:53/UDP'), {
    target: 53,
    targetEnd: 53,
    protocol: 'udp',
    published: 53,
    publishedEnd: 53,
    index: 0,
  });
  assert.deepEqual(one('80/'), { target: 80, targetEnd: 80, protocol: 'tcp', index: 0 });
});

test('short syntax: empty host port is ephemeral', () => {
  assert.deepEqual(one('127.0.0.1::80'), { hostIp: '127.0.0.1', target: 80, targetEnd: 80, protocol: 'tcp', index: 0 });
});

test('numbers are container ports', () => {
  assert.deepEqual(one(3000), { target: 3000, targetEnd: 3000, protocol: 'tcp', index: 0 });
});

test('long syntax with every field', () => {
  const port = one({
    target: 80,
    published: '8080',
    host_ip: '127.0.0.1',
    protocol: 'udp',
    mode: 'host',
    name: 'web',
    app_protocol: 'http',
  });
  assert.deepEqual(port, {
    target: 80,
    targetEnd: 80,
    protocol: 'udp',
    hostIp: '127.0.0.1',
    published: 8080,
    publishedEnd: 8080,
    mode: 'host',
    name: 'web',
    appProtocol: 'http',
    index: 0,
  });
});

test('long syntax: published as a number, a range, or absent; target as a string', () => {
  assert.deepEqual(one({ target: 80, published: 8080 }), {
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8080,
    index: 0,
  });
  assert.deepEqual(one({ target: 80, published: '8080-8081' }), {
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    published: 8080,
    publishedEnd: 8081,
    index: 0,
  });
  assert.deepEqual(one({ target: '443' }), { target: 443, targetEnd: 443, protocol: 'tcp', index: 0 });
  assert.deepEqual(one({ target: 80, published: '', host_ip: '' }), {
    target: 80,
    targetEnd: 80,
    protocol: 'tcp',
    index: 0,
  });
});

test('index is the position in the list, also after a malformed entry', () => {
  const c = ctx();
  const ports = normalizePorts(['80:abc', '81', { target: 82 }], c);
  assert.deepEqual(
    ports.map((p) => [p.index, p.target]),
    [
      [1, 81],
      [2, 82],
    ],
  );
  assert.equal(c.findings.length, 1);
});

test('"80:abc" is a schema error at its key path', () => {
  const c = ctx();
  assert.deepEqual(normalizePorts(['8080:8080', '80:abc'], c).length, 1);
  assert.deepEqual(c.findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'port "80:abc" is malformed: container port "abc" is not a port or range in 0-65535',
      where: { path: 'services/web/ports/1' },
      hint: 'Write a port as [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "127.0.0.1:8080:80" or "8000-8010:8000-8010/udp"; ports are 0-65535 and the protocol is tcp, udp or sctp.',
      service: 'web',
    },
  ]);
});

function reason(entry: unknown): string {
  const c = ctx();
  assert.deepEqual(normalizePorts([entry], c), []);
  assert.equal(c.findings.length, 1, `one finding for ${JSON.stringify(entry)}`);
  assert.equal(c.findings[0]!.where.path, 'services/web/ports/0');
  assert.equal(c.findings[0]!.severity, 'error');
  return c.findings[0]!.message;
}

test('malformed short syntax names what is wrong', () => {
  assert.equal(reason('abc:80'), 'port "abc:80" is malformed: host port "abc" is not a port or range in 0-65535');
  assert.equal(
    reason('8000-8001:80-82'),
    'port "8000-8001:80-82" is malformed: host range 8000-8001 and container range 80-82 differ in length',
  );
  assert.equal(reason('80/icmp'), 'port "80/icmp" is malformed: protocol "icmp" is not tcp, udp or sctp');
  assert.equal(reason('99999'), 'port "99999" is malformed: container port "99999" is not a port or range in 0-65535');
  assert.equal(reason('90-80'), 'port "90-80" is malformed: container port "90-80" is not a port or range in 0-65535');
  assert.equal(
    reason('1.2.3.4.5:80:80'),
    'port "1.2.3.4.5:80:80" is malformed: host IP "1.2.3.4.5" is not an IP address',
  );
  assert.equal(reason('[::1:80:80'), 'port "[::1:80:80" is malformed: host IP "[::1" has an unclosed bracket');
  assert.equal(reason(''), 'port "" is malformed: no container port');
  assert.equal(reason('8080:'), 'port "8080:" is malformed: no container port');
});

test('malformed numbers, long syntax and other shapes', () => {
  assert.equal(reason(70000), 'port 70000 is not a container port in 0-65535');
  assert.equal(reason(80.5), 'port 80.5 is not a container port in 0-65535');
  assert.equal(reason({ published: 8080 }), 'long-syntax port is malformed: target is missing');
  assert.equal(reason({ target: 'http' }), 'long-syntax port is malformed: target "http" is not a port in 0-65535');
  assert.equal(
    reason({ target: 80, published: 'x' }),
    'long-syntax port is malformed: published "x" is not a host port or range in 0-65535',
  );
  assert.equal(
    reason({ target: 80, published: [8080] }),
    'long-syntax port is malformed: published a list is not a host port or range in 0-65535',
  );
  assert.equal(
    reason({ target: 80, protocol: 'icmp' }),
    'long-syntax port is malformed: protocol "icmp" is not tcp, udp or sctp',
  );
  assert.equal(
    reason({ target: 80, host_ip: 'localhost' }),
    'long-syntax port is malformed: host IP "localhost" is not an IP address',
  );
  assert.equal(reason(true), 'port is a boolean, not a string, number or mapping');
  assert.equal(reason(null), 'port is an empty value, not a string, number or mapping');
});

test('ports that are not a list', () => {
  const c = ctx();
  assert.deepEqual(normalizePorts('80:80', c), []);
  assert.equal(c.findings[0]!.message, 'ports is a string, not a list');
  assert.equal(c.findings[0]!.where.path, 'services/web/ports');
  assert.deepEqual(normalizePorts(undefined, ctx()), []);
});

test('parsePortRange and parsePortSpec', () => {
  assert.deepEqual(parsePortRange('0'), [0, 0]);
  assert.deepEqual(parsePortRange('65535'), [65535, 65535]);
  assert.equal(parsePortRange('65536'), undefined);
  assert.equal(parsePortRange('+80'), undefined);
  assert.equal(parsePortRange('1-2-3'), undefined);
  assert.deepEqual(parsePortSpec('8080:80'), {
    ok: true,
    value: { target: 80, targetEnd: 80, protocol: 'tcp', published: 8080, publishedEnd: 8080 },
  });
});
