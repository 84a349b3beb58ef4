import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress, DnsLookupError, recordSet, serverAddresses } from './dns.js';

test('answers become a set: addresses written one way, sorted, without repeats, with the least TTL', () => {
  assert.deepEqual(recordSet([]), { addresses: [] });
  assert.deepEqual(
    recordSet([
      { address: '192.0.2.20', ttl: 300 },
      { address: '192.0.2.10', ttl: 120 },
      { address: '192.0.2.20', ttl: 300 },
    ]),
    { addresses: ['192.0.2.10', '192.0.2.20'], ttl: 120 },
  );
  assert.deepEqual(recordSet([{ address: '2001:0DB8:0:0::0010', ttl: 60 }]), { addresses: ['2001:db8::10'], ttl: 60 });
  assert.equal(canonicalAddress('192.0.2.10'), '192.0.2.10');
});

test('a server written as an address is reached at that address', async () => {
  assert.deepEqual(await serverAddresses('192.0.2.10'), ['192.0.2.10']);
  assert.deepEqual(await serverAddresses('2001:DB8::20'), ['2001:db8::20']);
});

test('no answer is a coded error that names the servers asked and how to check them', () => {
  const e = new DnsLookupError('shop.example.com', 'A', 'ECONNREFUSED', ['127.0.0.1:5399']);
  assert.equal(e.code, 'dns-lookup-failed');
  assert.equal(
    e.message,
    'no answer for the A record of shop.example.com from 127.0.0.1:5399: ECONNREFUSED, the connection was refused (no name server listens there)',
  );
  assert.equal(
    e.hint,
    'Check that 127.0.0.1:5399 answers for shop.example.com (`dig shop.example.com A` against 127.0.0.1:5399), or name other servers in dns.resolvers of ferry.yml.',
  );
  assert.match(
    new DnsLookupError('x.test', 'AAAA', 'EBADRESP', undefined).message,
    /from this machine's name servers \(\/etc\/resolv\.conf\): EBADRESP$/,
  );
});
