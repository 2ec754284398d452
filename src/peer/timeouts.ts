/** Deadlines of a session (docs/protocol.md section 5); tests shorten them. */
export interface SessionTimeouts {
  /** TCP accept (or connect) to both hellos exchanged. */
  handshakeTimeout: number;
  /** How often each side pings. */
  keepaliveInterval: number;
  /** Silence from the peer, while we are reading, after which the session fails. */
  idleTimeout: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = { handshakeTimeout: 10_000, keepaliveInterval: 5_000, idleTimeout: 15_000 };

export function resolveTimeouts(overrides: Partial<SessionTimeouts> = {}): SessionTimeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...overrides };
  for (const [key, value] of Object.entries(timeouts)) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`timeouts.${key} must be a positive number of milliseconds`);
  }
  if (timeouts.keepaliveInterval >= timeouts.idleTimeout)
    throw new TypeError('timeouts.keepaliveInterval must be shorter than timeouts.idleTimeout');
  return timeouts;
}
