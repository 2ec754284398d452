import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdFromCertificate } from '../../src/identity/device-id.js';
import { resolveTrustedDevice, UnknownDeviceError } from '../../src/config/device-ref.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { SynkerConfig } from '../../src/config/types.js';

const idA = deviceIdFromCertificate(Buffer.from('ref device a'));
const idB = deviceIdFromCertificate(Buffer.from('ref device b'));

function config(trusted: SynkerConfig['trusted']): SynkerConfig {
  return { ...defaultConfig('test'), trusted };
}

test('a device is found by full ID, name (any case) or first group', () => {
  const c = config([{ deviceId: idA, name: 'nas' }, { deviceId: idB }]);
  assert.equal(resolveTrustedDevice(c, idA).deviceId, idA);
  assert.equal(resolveTrustedDevice(c, 'NAS').deviceId, idA);
  assert.equal(resolveTrustedDevice(c, idB.slice(0, 7).toLowerCase()).deviceId, idB);
  // A device named after its own first group is still one device.
  assert.equal(resolveTrustedDevice(config([{ deviceId: idA, name: idA.slice(0, 7) }]), idA.slice(0, 7)).deviceId, idA);
  assert.throws(
    () => resolveTrustedDevice(c, 'laptop'),
    (err: unknown) => err instanceof UnknownDeviceError && err.code === 'E_UNKNOWN_DEVICE',
  );
});

test("a reference that is one device's name and another's first group is ambiguous, never silently the named one", () => {
  // Such a name is refused when set; a config made another way must still not pick the wrong device.
  const c = config([
    { deviceId: idA, name: 'nas' },
    { deviceId: idB, name: idA.slice(0, 7) },
  ]);
  assert.throws(
    () => resolveTrustedDevice(c, idA.slice(0, 7)),
    (err: unknown) =>
      err instanceof UnknownDeviceError &&
      /matches several trusted devices \(nas \(.{7}\), .*\): give the full device ID/.test(err.message),
  );
});
