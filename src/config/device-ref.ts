/**
 * How users name a trusted device on the command line: its full device ID
 * (any case, with or without dashes), the name given to it, or the first
 * group of its ID (`MFZWI3D`) when that is unambiguous. So that each of these
 * names one device only, a name may be neither a device ID nor another
 * trusted device's first group (deviceNameConflict; validate.ts refuses it in
 * the file too).
 */
import { SynkerError } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import { formatDeviceId, isDeviceId, parseDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { SynkerConfig, TrustedDevice } from './types.js';

export class UnknownDeviceError extends SynkerError {
  constructor(ref: string, reason = 'is not a trusted device') {
    super('E_UNKNOWN_DEVICE', `"${ref}" ${reason}`, { hint: 'Run `synker trusted` to list trusted devices by name and ID.' });
  }
}

/** The trusted device a reference names; throws UnknownDeviceError when none or several match. */
export function resolveTrustedDevice(config: SynkerConfig, ref: string): TrustedDevice {
  if (isDeviceId(ref)) {
    const id = parseDeviceId(ref);
    const found = config.trusted.find((t) => t.deviceId === id);
    if (!found) throw new UnknownDeviceError(formatDeviceId(id));
    return found;
  }
  const folded = ref.trim().toLowerCase();
  const short = ref.trim().toUpperCase();
  // A name and another device's first group are both references: never prefer one silently.
  const matches = config.trusted.filter(
    (t) => t.name?.toLowerCase() === folded || (/^[A-Z2-7]{7}$/.test(short) && shortDeviceId(t.deviceId) === short),
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UnknownDeviceError(
      ref,
      `matches several trusted devices (${matches.map((t) => describeDevice(t, t.deviceId)).join(', ')}): give the full device ID`,
    );
  }
  throw new UnknownDeviceError(ref);
}

/**
 * Why `name` cannot be the name of trusted device `deviceId`, or undefined
 * when it can: it must not be another device's name (case-insensitive) nor
 * the first group of another trusted device's ID, which commands also accept
 * as that device.
 */
export function deviceNameConflict(trusted: readonly TrustedDevice[], name: string, deviceId: string): string | undefined {
  const folded = name.trim().toLowerCase();
  for (const t of trusted) {
    if (t.deviceId === deviceId) continue;
    if (t.name?.toLowerCase() === folded) return `the name "${name.trim()}" is already used by ${formatDeviceId(t.deviceId)}`;
    if (shortDeviceId(t.deviceId).toLowerCase() === folded) {
      return `"${name.trim()}" is the first group of the device ID ${formatDeviceId(t.deviceId)}${t.name ? ` (${t.name})` : ''}, which commands accept as that device`;
    }
  }
  return undefined;
}

/** `nas (MFZWI3D)` or just the short ID: how lists and messages name a device (the name escaped, as every name shown). */
export function describeDevice(device: TrustedDevice | undefined, deviceId: string): string {
  return device?.name ? `${printablePath(device.name)} (${shortDeviceId(deviceId)})` : shortDeviceId(deviceId);
}
