import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/identity/identity.js';
import { formatDeviceId } from '../../src/identity/device-id.js';
import { instanceName, localHostName } from '../../src/discovery/advertiser.js';
import { DiscoveryError } from '../../src/discovery/errors.js';
import { cleanAgentName, decodeTxt, encodeTxt } from '../../src/discovery/txt.js';

const { deviceId } = await createIdentity();

test('a TXT record round-trips and holds nothing but ID, protocol version and name', () => {
  const encoded = encodeTxt({ deviceId, protocolVersion: 3, name: 'laptop' });
  assert.deepEqual(
    encoded.map((b) => b.toString()),
    ['txtvers=1', `id=${deviceId}`, 'pv=3', 'name=laptop'],
  );
  const decoded = decodeTxt(encoded);
  assert.deepEqual(decoded.synker, { deviceId, protocolVersion: 3, name: 'laptop' });
  assert.deepEqual(decoded.problems, []);
});

test('decoding accepts a dashed, lower-case device ID and returns the canonical form', () => {
  const decoded = decodeTxt([`ID=${formatDeviceId(deviceId).toLowerCase()}`, 'pv=1', 'name=x']);
  assert.equal(decoded.synker?.deviceId, deviceId);
});

test('records from other services are read leniently, with the reasons they are not synker agents', () => {
  const decoded = decodeTxt([Buffer.from('id=nonsense'), Buffer.from('pv=abc'), Buffer.from('flag')]);
  assert.equal(decoded.synker, undefined);
  assert.equal(decoded.pairs.flag, '');
  assert.equal(decoded.problems.length, 2);
  assert.match(decoded.problems[0]!, /not a device ID/);
  assert.match(decoded.problems[1]!, /not a number/);
  assert.deepEqual(decodeTxt(undefined).problems, ['no device ID (id=)', 'no protocol version (pv=)']);
  assert.deepEqual(decodeTxt([Buffer.alloc(0)]).pairs, {});
});

test('only the first occurrence of a key counts (RFC 6763 §6.4)', () => {
  const decoded = decodeTxt([`id=${deviceId}`, 'pv=1', 'pv=9', 'name=first', 'name=second']);
  assert.equal(decoded.synker?.protocolVersion, 1);
  assert.equal(decoded.synker?.name, 'first');
});

test('names are cleaned: no control characters or dots, at most 63 bytes, never cut inside a character', () => {
  assert.equal(cleanAgentName('my.laptop\u0000\n'), 'my-laptop');
  assert.equal(cleanAgentName(''), 'synker');
  const long = cleanAgentName('é'.repeat(40));
  assert.equal(Buffer.byteLength(long), 62);
  assert.equal(long, 'é'.repeat(31));
});

test('encoding refuses what is not a device ID or a protocol version', () => {
  assert.throws(() => encodeTxt({ deviceId: 'abc', protocolVersion: 1, name: 'x' }), DiscoveryError);
  assert.throws(() => encodeTxt({ deviceId, protocolVersion: 1.5, name: 'x' }), DiscoveryError);
});

test('instance names end in the short device ID and fit one DNS label', () => {
  assert.equal(instanceName('laptop', deviceId), `laptop (${deviceId.slice(0, 7)})`);
  const long = instanceName('x'.repeat(100), deviceId);
  assert.equal(Buffer.byteLength(long), 63);
  assert.ok(long.endsWith(`(${deviceId.slice(0, 7)})`));
});

test('the SRV target is <hostname>.local, never the bare host name', () => {
  assert.equal(localHostName('vm'), 'vm.local');
  assert.equal(localHostName('nas.example.com'), 'nas.local');
  assert.equal(localHostName('My_PC'), 'My-PC.local');
});
