import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/identity/identity.js';
import { MdnsCandidates } from '../../src/discovery/mdns-source.js';
import { PeerTable, type Observation, type PeerEntry, type RemovalReason } from '../../src/discovery/peer-table.js';
import { decodeTxt, encodeTxt } from '../../src/discovery/txt.js';

const { deviceId } = await createIdentity();

function setup(): { table: PeerTable; clock: { t: number }; events: string[] } {
  const clock = { t: 1_000_000 };
  const table = new PeerTable({ now: () => clock.t, maxSilenceMs: 120_000 });
  const events: string[] = [];
  table.on('added', (e: PeerEntry) => events.push(`added ${e.name}`));
  table.on('updated', (e: PeerEntry) => events.push(`updated ${e.name}`));
  table.on('removed', (e: PeerEntry, why: RemovalReason) => events.push(`removed ${e.name} ${why}`));
  return { table, clock, events };
}

function obs(overrides: Partial<Observation> = {}): Observation {
  return {
    instance: `laptop (${deviceId.slice(0, 7)})._synker._tcp.local`,
    host: 'laptop.local',
    port: 22000,
    txt: decodeTxt(encodeTxt({ deviceId, protocolVersion: 1, name: 'laptop' })),
    addresses: [{ address: '10.0.0.5', family: 4 }],
    interface: 'eth0',
    ttlMs: 120_000,
    ...overrides,
  };
}

test('an observed agent is added with its addresses, interface, first and last seen', () => {
  const { table, clock, events } = setup();
  table.observe(obs());
  const entry = table.get(deviceId)!;
  assert.equal(entry.name, 'laptop');
  assert.equal(entry.port, 22000);
  assert.equal(entry.firstSeen, clock.t);
  assert.deepEqual(
    entry.addresses.map((a) => [a.address, a.interface]),
    [['10.0.0.5', 'eth0']],
  );
  assert.deepEqual(events, ['added laptop']);
});

test('a repeated answer refreshes last seen without an update event; first seen stays', () => {
  const { table, clock, events } = setup();
  table.observe(obs());
  const first = clock.t;
  clock.t += 30_000;
  table.observe(obs());
  const entry = table.get(deviceId)!;
  assert.equal(entry.firstSeen, first);
  assert.equal(entry.lastSeen, clock.t);
  assert.deepEqual(events, ['added laptop']);
});

test('new addresses on an interface replace the old ones there; other interfaces keep theirs', () => {
  const { table, events } = setup();
  table.observe(obs());
  table.observe(obs({ interface: 'wlan0', addresses: [{ address: '192.168.1.9', family: 4 }] }));
  table.observe(
    obs({
      addresses: [
        { address: '10.0.0.77', family: 4 },
        { address: 'fe80::1', family: 6 },
      ],
    }),
  );
  const entry = table.get(deviceId)!;
  assert.deepEqual(entry.addresses.map((a) => `${a.address}@${a.interface}`).sort(), [
    '10.0.0.77@eth0',
    '192.168.1.9@wlan0',
    'fe80::1@eth0',
  ]);
  assert.deepEqual(events, ['added laptop', 'updated laptop', 'updated laptop']);
});

test('an answer without address records keeps the known addresses', () => {
  const { table } = setup();
  table.observe(obs());
  table.observe(obs({ addresses: [] }));
  assert.deepEqual(
    table.get(deviceId)!.addresses.map((a) => a.address),
    ['10.0.0.5'],
  );
});

test('a goodbye removes the entry at once', () => {
  const { table, events } = setup();
  table.observe(obs());
  assert.ok(table.goodbye(`LAPTOP (${deviceId.slice(0, 7)})._synker._tcp.local`));
  assert.equal(table.size, 0);
  assert.deepEqual(events, ['added laptop', 'removed laptop goodbye']);
  assert.equal(table.goodbye('nobody._synker._tcp.local'), undefined);
});

test('a silent entry expires when its TTL runs out, not before', () => {
  const { table, clock, events } = setup();
  table.observe(obs({ ttlMs: 60_000 }));
  clock.t += 59_999;
  assert.deepEqual(table.expire(), []);
  clock.t += 1;
  assert.equal(table.expire().length, 1);
  assert.equal(table.size, 0);
  assert.deepEqual(events, ['added laptop', 'removed laptop expired']);
});

test('long TTLs from other implementations are capped at the documented silence limit', () => {
  const { table, clock } = setup();
  table.observe(obs({ ttlMs: 4_500_000 }));
  clock.t += 120_000;
  table.expire();
  assert.equal(table.size, 0);
});

test('addresses not re-announced expire on their own while the agent stays', () => {
  const { table, clock } = setup();
  table.observe(obs({ interface: 'wlan0', addresses: [{ address: '192.168.1.9', family: 4 }] }));
  clock.t += 100_000;
  table.observe(obs());
  clock.t += 30_000;
  table.expire();
  assert.deepEqual(
    table.get(deviceId)!.addresses.map((a) => a.address),
    ['10.0.0.5'],
  );
});

test('services without a valid synker TXT record are listed by instance name as unknown agents', () => {
  const { table } = setup();
  table.observe(obs({ instance: 'printer._synker._tcp.local', txt: decodeTxt(['foo=bar']) }));
  const [entry] = table.list();
  assert.equal(entry!.deviceId, undefined);
  assert.equal(entry!.key, 'instance:printer._synker._tcp.local');
  assert.equal(entry!.name, 'printer');
  assert.ok(entry!.problems.length > 0);
});

test('the table as a candidate source: link-local IPv6 gets its zone, unknown-interface link-local is dropped', () => {
  const { table } = setup();
  table.observe(
    obs({
      addresses: [
        { address: '10.0.0.5', family: 4 },
        { address: 'fe80::1', family: 6 },
        { address: 'fd00::5', family: 6 },
      ],
    }),
  );
  table.observe(obs({ interface: undefined, addresses: [{ address: 'fe80::2', family: 6 }] }));
  const hosts = new MdnsCandidates(table)
    .candidates(deviceId)
    .map((c) => c.host)
    .sort();
  assert.deepEqual(hosts, ['10.0.0.5', 'fd00::5', 'fe80::1%eth0']);
  assert.deepEqual(new MdnsCandidates(table).candidates('OTHER'), []);
});
