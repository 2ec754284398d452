/**
 * Errors for frames and conversations that break docs/protocol.md. Each
 * code is documented there (section 7); a test keeps the two in step.
 */
import { SynkerError } from '../base/errors.js';

/** Codes that travel in `error` frames. */
export const WIRE_ERROR_CODES = [
  'E_FRAME_TOO_LARGE',
  'E_MALFORMED',
  'E_VERSION',
  'E_LIMIT',
  'E_BAD_PATH',
  'E_BAD_ENTRY',
  'E_ORDER',
  'E_TOTALS_MISMATCH',
  'E_UNEXPECTED_MESSAGE',
  'E_UNSUPPORTED',
  'E_DEVICE_MISMATCH',
  'E_NO_CERTIFICATE',
  'E_UNTRUSTED',
  'E_HANDSHAKE_TIMEOUT',
  'E_PEER_UNRESPONSIVE',
  'E_PEER_STALLED',
  'E_FOLDER_NOT_FOUND',
  'E_FOLDER_UNAVAILABLE',
  'E_CANCELLED',
  'E_SHUTTING_DOWN',
  'E_INTERNAL',
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

const DEFAULT_HINT =
  'The other device sent data this version of synker does not accept; make sure both run the same synker version, and report it if they do.';

/** A received frame or message sequence that breaks the protocol. Fatal to the session. */
export class ProtocolError extends SynkerError {
  declare readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(code, message, { hint: DEFAULT_HINT, ...options });
  }
}
