/**
 * How users name a trusted device on the command line: its full device ID
 * (any case, with or without dashes), the name given to it, or the first
 * group of its ID (`MFZWI3D`) when that is unambiguous.
 */
import { SynkerError } from '../errors.js';
import { formatDeviceId, isDeviceId, parseDeviceId, shortDeviceId } from './device-id.js';
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
  const byName = config.trusted.find((t) => t.name?.toLowerCase() === folded);
  if (byName) return byName;
  const short = ref.trim().toUpperCase();
  if (/^[A-Z2-7]{7}$/.test(short)) {
    const matches = config.trusted.filter((t) => shortDeviceId(t.deviceId) === short);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new UnknownDeviceError(ref, 'matches several trusted devices: give the full device ID');
  }
  throw new UnknownDeviceError(ref);
}

/** `nas (MFZWI3D)` or just the short ID: how lists name a device. */
export function describeDevice(device: TrustedDevice | undefined, deviceId: string): string {
  return device?.name ? `${device.name} (${shortDeviceId(deviceId)})` : shortDeviceId(deviceId);
}
