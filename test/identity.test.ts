import assert from 'node:assert/strict';
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { loadOrCreateIdentity, IdentityError } from '../src/config/identity.js';
import { parseDeviceId } from '../src/config/device-id.js';
import { tempDir } from './helpers/tmp.js';

test('identity is created once, private, and stable across loads', async (t) => {
  const dir = await tempDir(t);
  const first = await loadOrCreateIdentity(dir, 'laptop-a');
  assert.equal(first.created, true);
  assert.equal(parseDeviceId(first.identity.deviceId), first.identity.deviceId);
  for (const file of ['cert.pem', 'key.pem']) {
    assert.equal((await stat(path.join(dir, file))).mode & 0o777, 0o600, file);
  }
  const cert = new X509Certificate(first.identity.certPem);
  assert.equal(createPrivateKey(first.identity.keyPem).asymmetricKeyType, 'ec');
  assert.ok(cert.checkPrivateKey(createPrivateKey(first.identity.keyPem)));
  assert.ok(new Date(cert.validTo).getUTCFullYear() >= 2100);
  const second = await loadOrCreateIdentity(dir);
  assert.equal(second.created, false);
  assert.equal(second.identity.deviceId, first.identity.deviceId);
});

test('a half-deleted identity is refused, never silently replaced', async (t) => {
  const dir = await tempDir(t);
  await loadOrCreateIdentity(dir);
  await unlink(path.join(dir, 'cert.pem'));
  await assert.rejects(loadOrCreateIdentity(dir), (err: unknown) => err instanceof IdentityError && err.code === 'E_IDENTITY_INCOMPLETE');
});
