import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressesOverlap } from '../addresses.js';
import type { Protocol } from '../../model/compose.js';
import { portConflict } from './port-conflict.js';
import { brief, fleet, port, project, server, service, single, stack } from '../test-helpers/make.js';

const HINT =
  'Only one container can bind a host port: publish one of them on another host port, bind them to different addresses, or move one stack to another server.';

describe('port-conflict', () => {
  it('reports two services of one stack on the same port once, at the second, naming the first', () => {
    const f = portConflict(
      single([service('web', { ports: [port(0, 8080, 80)] }), service('api', { ports: [port(0, 8080, 3000)] })]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'port-conflict',
        severity: 'error',
        message:
          'app/api publishes host port 8080/tcp, already published by app/web (8080/tcp) at compose.yml (services/web/ports/0)',
        path: 'services/api/ports/0',
      },
    ]);
    assert.equal(f[0]?.hint, HINT);
    assert.deepEqual([f[0]?.stack, f[0]?.service, f[0]?.server], ['app', 'api', undefined]);
  });

  it('finds overlapping ranges across stacks on the same server, not on different servers', () => {
    const a = stack(
      'shop',
      project([service('web', { ports: [port(0, 8000, 8000, { publishedEnd: 8010, targetEnd: 8010 })] })]),
      { server: 'vps1' },
    );
    const b = stack('blog', project([service('app', { ports: [port(0, 8005, 80)] })]), { server: 'vps1' });
    const c = stack('wiki', project([service('app', { ports: [port(0, 8005, 80)] })]), { server: 'vps2' });
    const f = portConflict(fleet([a, b, c], [server('vps1'), server('vps2')]));
    assert.deepEqual(brief(f), [
      {
        code: 'port-conflict',
        severity: 'error',
        message:
          'blog/app publishes host port 8005/tcp on server vps1, already published by shop/web (8000-8010/tcp) at compose.yml (services/web/ports/0)',
        path: 'services/app/ports/0',
      },
    ]);
    assert.equal(f[0]?.server, 'vps1');
  });

  it('does not mix stacks that have no server', () => {
    const a = stack('a', project([service('web', { ports: [port(0, 80, 80)] })]));
    const b = stack('b', project([service('web', { ports: [port(0, 80, 80)] })]));
    assert.deepEqual(portConflict(fleet([a, b])), []);
  });

  it('keeps protocols and distinct addresses apart', () => {
    const f = portConflict(
      single([
        service('dns', { ports: [port(0, 53, 53, { protocol: 'udp' })] }),
        service('dot', { ports: [port(0, 53, 53)] }),
        service('a', { ports: [port(0, 9000, 9000, { hostIp: '127.0.0.1' })] }),
        service('b', { ports: [port(0, 9000, 9000, { hostIp: '10.0.0.5' })] }),
        service('c', { ports: [port(0, 7000, 7000, { hostIp: '0.0.0.0' })] }),
        service('d', { ports: [port(0, 7000, 7000, { hostIp: '::1' })] }),
      ]),
    );
    assert.deepEqual(f, []);
  });

  it('treats all-interface binds as overlapping the loopback of their family', () => {
    const f = portConflict(
      single([
        service('a', { ports: [port(0, 5432, 5432, { hostIp: '127.0.0.1' })] }),
        service('b', { ports: [port(0, 5432, 5432)] }),
      ]),
    );
    assert.deepEqual(
      brief(f).map((x) => x.message),
      [
        'app/b publishes host port 5432/tcp, already published by app/a (127.0.0.1:5432/tcp) at compose.yml (services/a/ports/0)',
      ],
    );
  });

  it('reports each colliding port once, with the first one it collides with', () => {
    const f = portConflict(single(['a', 'b', 'c'].map((n) => service(n, { ports: [port(0, 80, 80)] }))));
    assert.deepEqual(
      f.map((x) => `${x.service}<${x.message.split('by ')[1]?.split(' ')[0]}`),
      ['b<app/a', 'c<app/a'],
    );
  });

  it('flags replicas of a fixed published port as conflicting with themselves', () => {
    const f = portConflict(single([service('web', { replicas: 3, ports: [port(0, 8080, 80)] })]));
    assert.deepEqual(brief(f), [
      {
        code: 'port-conflict',
        severity: 'error',
        message:
          'app/web runs 3 replicas but publishes fixed host port 8080/tcp: the replicas conflict with themselves and only 1 can bind it',
        path: 'services/web/ports/0',
      },
    ]);
  });

  it('accepts replicas on a host port range at least as wide, or on ephemeral ports', () => {
    const f = portConflict(
      single([
        service('web', { replicas: 3, ports: [port(0, 8080, 80, { publishedEnd: 8082 })] }),
        service('api', { replicas: 3, ports: [port(0, undefined, 3000)] }),
      ]),
    );
    assert.deepEqual(f, []);
  });

  it('skips stacks whose project did not load', () => {
    assert.deepEqual(portConflict(fleet([stack('broken', undefined)])), []);
  });

  it('compares addresses by family', () => {
    assert.equal(addressesOverlap(undefined, '::1'), true);
    assert.equal(addressesOverlap('0.0.0.0', '127.0.0.1'), true);
    assert.equal(addressesOverlap('[::]', '::1'), true);
    assert.equal(addressesOverlap('0.0.0.0', '::'), false);
    assert.equal(addressesOverlap('127.0.0.1', '127.0.0.1'), true);
    assert.equal(addressesOverlap('127.0.0.1', '10.0.0.5'), false);
    assert.equal(addressesOverlap('127.0.0.1', '*'), true, 'ss shows dual-stack wildcard sockets as *');
    assert.equal(addressesOverlap('::1', '*'), true);
  });
});

describe('port-conflict, the first earlier binding', () => {
  it('collides by protocol, overlapping ranges and bind addresses as addressesOverlap says', () => {
    const at = (i: number, published: number, ip?: string, protocol: Protocol = 'tcp', publishedEnd?: number) =>
      port(i, published, 80, {
        protocol,
        ...(ip === undefined ? {} : { hostIp: ip }),
        ...(publishedEnd === undefined ? {} : { publishedEnd }),
      });
    const f = portConflict(
      single([
        service('v4', { ports: [at(0, 80, '127.0.0.1')] }),
        service('v6', { ports: [at(0, 80, '::1')] }),
        service('other4', { ports: [at(0, 80, '10.0.0.1')] }),
        service('udp', { ports: [at(0, 80, undefined, 'udp')] }),
        service('wild4', { ports: [at(0, 80, '0.0.0.0')] }),
        service('range', { ports: [at(0, 70, '::', 'tcp', 90)] }),
        service('same', { ports: [at(0, 80, '10.0.0.1')] }),
        service('far', { ports: [at(0, 91)] }),
      ]),
    );
    assert.deepEqual(
      f.map((x) => `${x.service}<${x.message.split('by ')[1]?.split(' ')[0]}`),
      ['wild4<app/v4', 'range<app/v6', 'same<app/other4'],
    );
  });

  it('stays near linear: 20,000 services on one port are each reported once', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => service(`s${i}`, { ports: [port(0, 80, 80)] }));
    const f = portConflict(single(many));
    assert.equal(f.length, 19_999);
    assert.ok(f.every((x) => x.message.includes('already published by app/s0 ')));
  });
});
