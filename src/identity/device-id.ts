/**
 * Device IDs, modelled on Syncthing's: SHA-256 of the device certificate (DER),
 * base32 encoded, with a Luhn mod-32 check character after every 13
 * characters so a mistyped ID is caught, shown as 8 groups of 7:
 *   MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD
 * The canonical form (used in config, TXT records and the protocol) is the
 * same 56 characters without dashes.
 */
import { createHash } from 'node:crypto';
import { SynkerError } from '../base/errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class DeviceIdError extends SynkerError {
  constructor(input: string, reason: string) {
    super('E_DEVICE_ID', `"${input}" is not a valid device ID: ${reason}`, {
      hint: 'Copy the ID exactly as `synker id` prints it on the other device (dashes and case do not matter).',
    });
  }
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

function luhn32(s: string): string {
  let factor = 1;
  let sum = 0;
  for (const ch of s) {
    let addend = factor * ALPHABET.indexOf(ch);
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / 32) + (addend % 32);
    sum += addend;
  }
  return ALPHABET[(32 - (sum % 32)) % 32]!;
}

/** Canonical device ID (56 chars, no dashes) of a DER-encoded certificate. */
export function deviceIdFromCertificate(der: Uint8Array): string {
  const plain = base32(createHash('sha256').update(der).digest());
  let id = '';
  for (let i = 0; i < 4; i++) {
    const chunk = plain.slice(i * 13, i * 13 + 13);
    id += chunk + luhn32(chunk);
  }
  return id;
}

/** Parse user input (any case, dashes or spaces) into the canonical form; throws DeviceIdError. */
export function parseDeviceId(input: string): string {
  const cleaned = input.trim().toUpperCase().replace(/[-\s]/g, '');
  if (cleaned.length !== 56) throw new DeviceIdError(input, `expected 56 characters, got ${cleaned.length}`);
  if (!/^[A-Z2-7]+$/.test(cleaned)) throw new DeviceIdError(input, 'only letters A-Z and digits 2-7 can appear');
  for (let i = 0; i < 4; i++) {
    const group = cleaned.slice(i * 14, i * 14 + 14);
    if (luhn32(group.slice(0, 13)) !== group[13]) throw new DeviceIdError(input, 'a check character does not match (typo?)');
  }
  return cleaned;
}

/** True when the input parses as a device ID. */
export function isDeviceId(input: string): boolean {
  try {
    parseDeviceId(input);
    return true;
  } catch {
    return false;
  }
}

/** Human form: 8 groups of 7 joined by dashes. */
export function formatDeviceId(id: string): string {
  return id.match(/.{1,7}/g)!.join('-');
}

/** Short form shown in lists and instance names: the first group. */
export function shortDeviceId(id: string): string {
  return id.slice(0, 7);
}
