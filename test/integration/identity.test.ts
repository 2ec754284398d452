import assert from 'node:assert/strict';
import { copyFile, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { loadOrCreateIdentity, IdentityError } from '../../src/identity/identity.js';
import { parseDeviceId } from '../../src/identity/device-id.js';
import { spawnHelper, waitForLine } from '../harness/child-script.js';
import { tempDir } from '../harness/tmp.js';

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

test('processes starting at once on a new machine agree on one identity, with a matching key', async (t) => {
  const dir = path.join(await tempDir(t), 'config');
  const children = Array.from({ length: 6 }, () => spawnHelper('load-identity', [dir]));
  const lines = await Promise.all(children.map((child) => waitForLine(child, /^device /, 60_000)));
  const ids = new Set(lines.map((line) => line.split(' ')[1]));
  assert.equal(ids.size, 1, lines.join('\n'));
  assert.equal(lines.filter((line) => line.endsWith(' created')).length, 1, lines.join('\n'));
  const cert = new X509Certificate(await readFile(path.join(dir, 'cert.pem')));
  assert.ok(cert.checkPrivateKey(createPrivateKey(await readFile(path.join(dir, 'key.pem')))));
  assert.equal((await loadOrCreateIdentity(dir)).identity.deviceId, [...ids][0]);
});

test("a garbage or another identity's key.pem is an identity error, never regenerated", async (t) => {
  const dir = await tempDir(t);
  const other = await tempDir(t);
  const { identity } = await loadOrCreateIdentity(dir);
  await loadOrCreateIdentity(other);
  const keyPath = path.join(dir, 'key.pem');
  await writeFile(keyPath, 'garbage\n');
  await assert.rejects(
    loadOrCreateIdentity(dir),
    (err: unknown) =>
      err instanceof IdentityError && err.code === 'E_IDENTITY_CORRUPT' && err.message.includes(keyPath) && /backup/.test(err.hint ?? ''),
  );
  await copyFile(path.join(other, 'key.pem'), keyPath);
  await assert.rejects(
    loadOrCreateIdentity(dir),
    (err: unknown) => err instanceof IdentityError && err.code === 'E_IDENTITY_MISMATCH' && /backup/.test(err.hint ?? ''),
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  await writeFile(keyPath, rsa);
  await assert.rejects(loadOrCreateIdentity(dir), (err: unknown) => err instanceof IdentityError && err.code === 'E_IDENTITY_MISMATCH');
  // Nothing was replaced: the certificate (the device ID) is the one created first.
  assert.equal(await readFile(path.join(dir, 'cert.pem'), 'utf8'), identity.certPem);
});
