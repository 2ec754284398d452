import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdFromCertificate, formatDeviceId, parseDeviceId, DeviceIdError, shortDeviceId } from '../../src/identity/device-id.js';

test('device IDs are 56 characters with check characters, shown as 8 groups of 7', () => {
  const id = deviceIdFromCertificate(Buffer.from('a certificate'));
  assert.match(id, /^[A-Z2-7]{56}$/);
  const shown = formatDeviceId(id);
  assert.match(shown, /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
  assert.equal(parseDeviceId(shown.toLowerCase()), id);
  assert.equal(shortDeviceId(id), shown.slice(0, 7));
});

test('a mistyped device ID is refused with a clear reason', () => {
  const id = deviceIdFromCertificate(Buffer.from('another certificate'));
  const typo = id[3] === 'A' ? 'B' : 'A';
  const bad = id.slice(0, 3) + typo + id.slice(4);
  assert.throws(
    () => parseDeviceId(bad),
    (err: unknown) => err instanceof DeviceIdError && /check character/.test(err.message),
  );
  assert.throws(() => parseDeviceId('short'), /expected 56 characters/);
  assert.throws(() => parseDeviceId('1'.repeat(56)), /A-Z and digits 2-7/);
});
