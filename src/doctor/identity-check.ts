/**
 * The identity files: both present, readable, private (0600), owned by the
 * user, and the key belongs to the certificate. Doctor never creates or
 * repairs them: a new identity changes the device ID every peer pinned.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { formatDeviceId } from '../identity/device-id.js';
import { CERT_FILE, KEY_FILE, deviceIdOfPem } from '../identity/identity.js';
import { fail, ok, warn, type Finding } from './finding.js';

const CHECK = 'identity';

export async function checkIdentity(configDir: string): Promise<Finding[]> {
  const certPath = path.join(configDir, CERT_FILE);
  const keyPath = path.join(configDir, KEY_FILE);
  const [cert, key] = [await readIdentityFile(certPath), await readIdentityFile(keyPath)];
  if (cert.missing && key.missing) {
    return [fail(CHECK, `no identity in ${configDir} yet`, "Run `synker init` to create this device's identity and config.")];
  }
  const findings: Finding[] = [];
  for (const file of [cert, key]) {
    if (file.missing) {
      findings.push(
        fail(
          CHECK,
          `${file.path} is missing (the other identity file is there)`,
          `Restore ${path.basename(file.path)} from a backup of ${configDir}; a new identity means every peer must trust the new device ID.`,
        ),
      );
    } else if (file.error) {
      findings.push(
        fail(CHECK, `cannot read ${file.path}: ${file.error}`, `Run: chown "$(id -un)" '${file.path}' && chmod 600 '${file.path}'`),
      );
    }
  }
  findings.push(...permissionFindings(cert), ...permissionFindings(key));
  if (cert.text === undefined || key.text === undefined) return findings;
  let deviceId: string;
  try {
    deviceId = deviceIdOfPem(cert.text);
  } catch (err) {
    findings.push(
      fail(
        CHECK,
        `${cert.path} is not a valid certificate: ${(err as Error).message}`,
        `Restore ${CERT_FILE} from a backup of ${configDir}.`,
      ),
    );
    return findings;
  }
  try {
    if (!new X509Certificate(cert.text).checkPrivateKey(createPrivateKey(key.text))) {
      findings.push(
        fail(CHECK, `${key.path} does not belong to ${cert.path}`, `Restore both files together from the same backup of ${configDir}.`),
      );
      return findings;
    }
  } catch (err) {
    findings.push(
      fail(
        CHECK,
        `${key.path} is not a valid private key: ${(err as Error).message}`,
        `Restore ${KEY_FILE} from a backup of ${configDir}.`,
      ),
    );
    return findings;
  }
  if (!findings.some((f) => f.status === 'fail')) findings.unshift(ok(CHECK, `device ID ${formatDeviceId(deviceId)} (${configDir})`));
  return findings;
}

interface IdentityFile {
  path: string;
  missing: boolean;
  text?: string;
  error?: string;
  mode?: number;
  uid?: number;
}

async function readIdentityFile(file: string): Promise<IdentityFile> {
  const result: IdentityFile = { path: file, missing: false };
  try {
    const st = await stat(file);
    result.mode = st.mode & 0o777;
    result.uid = st.uid;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { path: file, missing: true };
    result.error = describe(err);
    return result;
  }
  try {
    result.text = await readFile(file, 'utf8');
  } catch (err) {
    result.error = describe(err);
  }
  return result;
}

function permissionFindings(file: IdentityFile): Finding[] {
  if (file.mode === undefined || process.platform === 'win32') return [];
  const findings: Finding[] = [];
  if ((file.mode & 0o077) !== 0) {
    const what = path.basename(file.path) === KEY_FILE ? 'the private key' : 'the certificate';
    findings.push(
      fail(
        CHECK,
        `${file.path} (${what}) can be read by other users: mode ${file.mode.toString(8).padStart(3, '0')}`,
        `Run: chmod 600 '${file.path}'`,
      ),
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && file.uid !== undefined && file.uid !== uid) {
    findings.push(warn(CHECK, `${file.path} belongs to user id ${file.uid}, not to you (${uid})`, `Run: chown "$(id -un)" '${file.path}'`));
  }
  return findings;
}

function describe(err: unknown): string {
  switch (errnoCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder, not a file';
    default:
      return (err as Error).message;
  }
}
