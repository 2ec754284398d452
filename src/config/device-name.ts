/**
 * The rule for device names: this device's own (`name` in the config,
 * `synker agent --name`, `synker init`) and the names given to trusted
 * devices (`trusted[].name`, `synker trust --name`, a name a device
 * announced): every place a name is taken checks it here. (The protocol's
 * hello takes names up to 128 bytes, protocol/limits.ts: a looser bound for
 * what arrives from peers of any version.)
 */
import { isDeviceId } from '../identity/device-id.js';

/** At most this many bytes (UTF-8) once trimmed. */
export const MAX_NAME_BYTES = 63;

/** Why `value` cannot be a device's name, as a phrase after "the name" / "--name"; undefined when it can. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return `must be a non-empty string, found ${JSON.stringify(value)}`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters';
  if (Buffer.byteLength(value.trim()) > MAX_NAME_BYTES)
    return `must be at most ${MAX_NAME_BYTES} bytes (UTF-8), found ${Buffer.byteLength(value.trim())}`;
  return undefined;
}

/** A trusted device's name also must not look like a device ID (commands take either). */
export function trustedNameProblem(value: unknown): string | undefined {
  return nameProblem(value) ?? (isDeviceId((value as string).trim()) ? 'must not look like a device ID' : undefined);
}
