import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import { createIdentity } from '../../src/identity/identity.js';
import { DEFAULT_PORT } from '../../src/config/defaults.js';
import { orderCandidates, PeerFinder, type Candidate, type CandidateSource } from '../../src/discovery/candidates.js';
import { connectToDevice } from '../../src/discovery/connect.js';
import { DiscoveryError } from '../../src/discovery/errors.js';
import { eligibleInterfaces, onSubnet } from '../../src/discovery/interfaces.js';
import { MdnsCandidates } from '../../src/discovery/mdns-source.js';
import { PeerTable } from '../../src/discovery/peer-table.js';
import { parseStaticPeer, StaticPeers } from '../../src/discovery/static-peers.js';
import { decodeTxt, encodeTxt } from '../../src/discovery/txt.js';
import { REFUSED_PORT } from '../harness/ports.js';

const { deviceId } = await createIdentity();
const { deviceId: otherId } = await createIdentity();

const c = (host: string, source: Candidate['source'], family: 4 | 6 | undefined, lastSeen?: number): Candidate => ({
  host,
  port: 1,
  family,
  interface: undefined,
  source,
  lastSeen,
});

test('static peer addresses: host:port, IPv4, bracketed IPv6 with zone; clear errors otherwise', () => {
  assert.deepEqual(parseStaticPeer(' 192.168.1.20:22000 '), { text: '192.168.1.20:22000', host: '192.168.1.20', port: 22000 });
  assert.deepEqual(parseStaticPeer('nas.local:8384'), { text: 'nas.local:8384', host: 'nas.local', port: 8384 });
  assert.equal(parseStaticPeer('[fe80::1%eth0]:22000').host, 'fe80::1%eth0');
  assert.deepEqual(parseStaticPeer('nas.local'), { text: 'nas.local', host: 'nas.local', port: DEFAULT_PORT });
  for (const [bad, why] of [
    ['fe80::1:22000', /brackets/],
    ['[nope]:1', /not an IPv6/],
    ['host:0', /not a port number/],
    ['host:99999', /not a port number/],
    ['host:http', /not a port/],
    ['a b:1', /not a host name/],
  ] as const) {
    assert.throws(
      () => parseStaticPeer(bad),
      (err: unknown) => err instanceof DiscoveryError && err.code === 'E_PEER_ADDRESS' && why.test(err.message) && !!err.hint,
      bad,
    );
  }
});

test('static peers are candidates for any device until a connection tells which device is there', () => {
  const statics = new StaticPeers(['10.0.0.9:22000', '10.0.0.9:22000', '[fd00::9]:22000', 'nas.local:22000']);
  assert.equal(statics.peers.length, 3);
  assert.deepEqual(
    statics.candidates(deviceId).map((x) => [x.host, x.family]),
    [
      ['10.0.0.9', 4],
      ['fd00::9', 6],
      ['nas.local', undefined],
    ],
  );
  statics.learn('10.0.0.9', 22000, otherId);
  assert.deepEqual(
    statics.candidates(deviceId).map((x) => x.host),
    ['fd00::9', 'nas.local'],
  );
  assert.deepEqual(
    statics.candidates(otherId).map((x) => x.host),
    ['10.0.0.9', 'fd00::9', 'nas.local'],
  );
});

test('ordering: fresh mDNS before static; IPv4, then routable IPv6, then link-local; newest first; no duplicates', () => {
  const ordered = orderCandidates([
    c('nas.local', 'static', undefined),
    c('10.0.0.9', 'static', 4),
    c('fe80::1%eth0', 'mdns', 6, 5),
    c('169.254.3.3', 'mdns', 4, 5),
    c('fd00::1', 'mdns', 6, 5),
    c('10.0.0.5', 'mdns', 4, 1),
    c('192.168.1.5', 'mdns', 4, 9),
    c('10.0.0.9', 'mdns', 4, 2),
  ]);
  assert.deepEqual(
    ordered.map((x) => `${x.host}/${x.source}`),
    ['192.168.1.5/mdns', '10.0.0.9/mdns', '10.0.0.5/mdns', 'fd00::1/mdns', '169.254.3.3/mdns', 'fe80::1%eth0/mdns', 'nas.local/static'],
  );
});

test('the finder merges sources side by side and waits for a first candidate', async () => {
  const table = new PeerTable();
  const finder = new PeerFinder([new MdnsCandidates(table), new StaticPeers(['127.0.0.1:9'])]);
  assert.deepEqual(
    finder.candidates(deviceId).map((x) => x.source),
    ['static'],
  );
  const late = new PeerFinder([new MdnsCandidates(table)]);
  const waiting = late.waitForCandidates(deviceId, 30_000);
  setTimeout(() => {
    table.observe({
      instance: 'x._synker._tcp.local',
      host: 'x.local',
      port: 7,
      txt: decodeTxt(encodeTxt({ deviceId, protocolVersion: 1, name: 'x' })),
      addresses: [{ address: '10.1.1.1', family: 4 }],
      interface: 'eth0',
      ttlMs: 120_000,
    });
  }, 20);
  assert.deepEqual(
    (await waiting).map((x) => x.host),
    ['10.1.1.1'],
  );
  assert.deepEqual(await new PeerFinder([]).waitForCandidates(deviceId, 10), []);
});

test('connecting by device ID tries candidates in order and keeps the first that works', async (t) => {
  // A real listener on loopback; the first candidate is a closed port.
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const open = (server.address() as net.AddressInfo).port;
  const closed = REFUSED_PORT;
  const source: CandidateSource = {
    name: 'fixed',
    candidates: () => [
      { host: '127.0.0.1', port: closed, family: 4, interface: undefined, source: 'mdns', lastSeen: 2 },
      { host: '127.0.0.1', port: open, family: 4, interface: undefined, source: 'mdns', lastSeen: 1 },
    ],
  };
  const dial = (cand: Candidate): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect(cand.port, cand.host);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  const result = await connectToDevice(deviceId, new PeerFinder([source]), dial);
  result.connection.destroy();
  assert.equal(result.candidate.port, open);
  assert.equal(result.attempts.length, 1);
  assert.match(result.attempts[0]!.error.message, /ECONNREFUSED/);
});

test('connecting fails in words: nothing found, or every address refused', async () => {
  await assert.rejects(
    connectToDevice(deviceId, new PeerFinder([]), () => Promise.resolve(1), { waitMs: 10 }),
    (err: unknown) => err instanceof DiscoveryError && err.code === 'E_PEER_NOT_FOUND' && /--peer/.test(err.hint ?? ''),
  );
  const finder = new PeerFinder([new StaticPeers(['127.0.0.1:9'])]);
  await assert.rejects(
    connectToDevice(deviceId, finder, () => Promise.reject(new Error('wrong device ID')), { waitMs: 10 }),
    (err: unknown) =>
      err instanceof DiscoveryError && err.code === 'E_PEER_UNREACHABLE' && /127\.0\.0\.1:9 \(static\): wrong device ID/.test(err.message),
  );
});

test('interfaces: up, multicast-capable, non-loopback with IPv4; --interface restricts and may name lo', () => {
  const info = (address: string, family: 'IPv4' | 'IPv6', internal = false, cidr = family === 'IPv4' ? `${address}/24` : `${address}/64`) =>
    ({
      address,
      family,
      internal,
      cidr,
      netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::',
      mac: '00:00:00:00:00:00',
      scopeid: family === 'IPv6' ? 2 : undefined,
    }) as never;
  const lister = () => ({
    lo: [info('127.0.0.1', 'IPv4', true, '127.0.0.1/8')],
    eth0: [info('10.0.0.5', 'IPv4'), info('fe80::1', 'IPv6')],
    tun0: [info('10.8.0.2', 'IPv4')],
    v6only: [info('fd00::1', 'IPv6')],
  });
  const multicast = (name: string) => name !== 'tun0';
  assert.deepEqual(
    eligibleInterfaces({}, lister, multicast).map((i) => i.name),
    ['eth0'],
  );
  assert.deepEqual(
    eligibleInterfaces({ only: ['lo'] }, lister, multicast).map((i) => i.name),
    ['lo'],
  );
  const [eth0] = eligibleInterfaces({ only: ['eth0', 'missing'] }, lister, multicast);
  assert.equal(eth0!.primary, '10.0.0.5');
  assert.deepEqual(
    eth0!.addresses.map((a) => [a.address, a.family, a.prefix]),
    [
      ['10.0.0.5', 4, 24],
      ['fe80::1', 6, 64],
    ],
  );
  assert.ok(onSubnet(eth0!, '10.0.0.200'));
  assert.ok(!onSubnet(eth0!, '10.0.1.1'));
  assert.ok(!onSubnet(eth0!, 'fe80::2'));
});
