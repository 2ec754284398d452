/**
 * This device's identity: an ECDSA P-256 key and a long-lived self-signed
 * certificate. The device ID is a hash of the certificate, so the
 * certificate is created once and never regenerated (validity: 100 years).
 * Files are written mode 0600 in the config dir.
 */
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, rename, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SynkerError, errnoCode } from '../base/errors.js';
import { acquireLock } from '../state/lock.js';
import { makeConfigDir } from '../dirs/config-dir.js';
import { deviceIdFromCertificate } from './device-id.js';
import type * as X509Library from '@peculiar/x509';

export interface Identity {
  /** PEM certificate and private key, as TLS wants them. */
  certPem: string;
  keyPem: string;
  /** Canonical device ID (see device-id.ts). */
  deviceId: string;
}

export class IdentityError extends SynkerError {}

export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Make a new identity in memory (tests use this directly; agents use loadOrCreateIdentity). */
export async function createIdentity(commonName = 'synker'): Promise<Identity> {
  const x509 = await certificateLibrary();
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(Date.UTC(2000, 0, 1));
  const notAfter = new Date(Date.UTC(2125, 0, 1));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto
      .getRandomValues(new Uint8Array(16))
      .reduce((s, b) => s + b.toString(16).padStart(2, '0'), '')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, '_')}`,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: keys as unknown as X509Library.X509CertificateCreateSelfSignedParams['keys'],
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = toPem('PRIVATE KEY', Buffer.from(pkcs8));
  const certPem = cert.toString('pem');
  return { certPem, keyPem, deviceId: deviceIdOfPem(certPem) };
}

/**
 * The certificate generator, loaded only to create an identity: it and its
 * ASN.1 modules cost every command start-up ~0.1-0.2 s otherwise, and
 * loading an existing identity needs only node:crypto.
 */
async function certificateLibrary(): Promise<typeof X509Library> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

/** Device ID of a PEM certificate. */
export function deviceIdOfPem(certPem: string): string {
  return deviceIdFromCertificate(new X509Certificate(certPem).raw);
}

/**
 * Load the identity from `dir`, creating it on first run. A half-present
 * identity (key without certificate or the reverse) is an error, never
 * silently replaced: replacing it would change the device ID every peer pinned.
 */
export async function loadOrCreateIdentity(dir: string, commonName = os.hostname()): Promise<{ identity: Identity; created: boolean }> {
  const existing = await readIdentity(dir);
  if (existing !== undefined) return { identity: existing, created: false };
  // Two synker processes starting at once (an agent and a `synker trust`) must
  // not both create an identity: one could end up with the other's key next to
  // its own certificate. The first creates both files under a lock; the other
  // waits, then reads what was written.
  const lock = await acquireLock(`identity\0${path.resolve(dir)}`, {
    purpose: 'creating the device identity',
    waitMs: 30_000,
    description: `the identity in ${dir}`,
  });
  try {
    const written = await readIdentity(dir, { complete: true });
    if (written !== undefined) return { identity: written, created: false };
    const identity = await createIdentity(commonName);
    await makeConfigDir(dir);
    await writePrivate(path.join(dir, KEY_FILE), identity.keyPem);
    await writePrivate(path.join(dir, CERT_FILE), identity.certPem);
    return { identity, created: true };
  } finally {
    await lock.release();
  }
}

/**
 * The identity in `dir`, or undefined when it has none yet. A half-written
 * one (one file only) is undefined while another process may still be
 * writing it; with `complete` (under the lock, so nobody is) it is an error.
 */
async function readIdentity(dir: string, options: { complete?: boolean } = {}): Promise<Identity | undefined> {
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  const [cert, key] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (cert !== undefined && key !== undefined) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(cert);
    } catch (err) {
      throw new IdentityError('E_IDENTITY_CORRUPT', `the certificate in ${certPath} cannot be read`, {
        cause: err,
        hint: 'Restore it from a backup of that folder; deleting it gives this device a new ID that every peer must trust again.',
      });
    }
    // Checked here, not when TLS first uses it: a broken or swapped key would
    // otherwise surface as an OpenSSL message in the middle of a check.
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(key);
    } catch (err) {
      throw new IdentityError('E_IDENTITY_CORRUPT', `the private key in ${keyPath} cannot be read`, {
        cause: err,
        hint: `Restore ${KEY_FILE} from a backup of that folder (the one saved with this ${CERT_FILE}); deleting both gives this device a new ID that every peer must trust again.`,
      });
    }
    if (!certificate.checkPrivateKey(privateKey)) {
      throw new IdentityError('E_IDENTITY_MISMATCH', `the private key in ${keyPath} does not belong to the certificate in ${certPath}`, {
        hint: `Restore both files from the same backup of that folder (${KEY_FILE} was replaced by another device's?); deleting both gives this device a new ID that every peer must trust again.`,
      });
    }
    return { certPem: cert, keyPem: key, deviceId: deviceIdFromCertificate(certificate.raw) };
  }
  if ((cert !== undefined || key !== undefined) && options.complete) {
    const missing = cert === undefined ? certPath : keyPath;
    throw new IdentityError('E_IDENTITY_INCOMPLETE', `the identity is incomplete: ${missing} is missing`, {
      hint: `Restore ${missing} from a backup, or delete both ${CERT_FILE} and ${KEY_FILE} in ${dir} to create a new identity (peers must then trust the new device ID).`,
    });
  }
  return undefined;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new IdentityError('E_IDENTITY_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Check the file permissions: the identity files belong to the user running synker.',
    });
  }
}

async function writePrivate(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

function toPem(label: string, der: Buffer): string {
  const body = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
