/**
 * Failures of a session with another agent: connection-level problems
 * (refused, wrong device, frozen peer) and errors the peer sent us, which
 * keep the peer's code. Codes are documented in docs/protocol.md section 7.
 */
import { SynkerError } from '../base/errors.js';
import { printablePath } from '../base/printable.js';

/** Codes only raised locally (never sent in an `error` frame). */
export const LOCAL_PEER_ERROR_CODES = [
  'E_WRONG_DEVICE',
  'E_CONNECT',
  'E_PEER_CLOSED',
  'E_SESSION_CLOSED',
  'E_ABORTED',
  'E_PEER_STALLED',
] as const;

export class PeerError extends SynkerError {
  /** True when the peer sent this error (its code, its words); false when detected here. */
  readonly remote: boolean;
  /**
   * The words of an error the peer sent (`remote`) are escaped here, once,
   * line breaks included: whatever shows them (terminal, log, e-mail), a peer
   * cannot start a line of its own there (a forged `error:` line) or send
   * control sequences. Escaping is idempotent, so wrapping is safe.
   */
  constructor(code: string, message: string, options: { cause?: unknown; hint?: string; remote?: boolean } = {}) {
    const { remote = false, ...rest } = options;
    if (remote && rest.hint !== undefined) rest.hint = printablePath(rest.hint);
    super(code, remote ? printablePath(message) : message, rest);
    this.remote = remote;
  }
}

/**
 * The address answered, but with another device's certificate. Carries the
 * device that did answer, so discovery can remember whose address it is.
 */
export class WrongDeviceError extends PeerError {
  /** Device ID (unformatted) of the certificate presented, if any. */
  readonly presentedDeviceId: string | undefined;
  constructor(message: string, presentedDeviceId: string | undefined, options: { hint?: string } = {}) {
    super('E_WRONG_DEVICE', message, options);
    this.presentedDeviceId = presentedDeviceId;
  }
}
