/** Deadlines of a session (docs/protocol.md section 5); tests shorten them. */
export interface SessionTimeouts {
  /** TCP accept (or connect) to both hellos exchanged. */
  handshakeTimeout: number;
  /** How often each side pings. */
  keepaliveInterval: number;
  /** Silence from the peer, while we are reading, after which the session fails. */
  idleTimeout: number;
  /**
   * Client: time without progress on a request (no entries, file data or
   * advancing `progress` message) from a server that announced `progress`,
   * while we are reading, after which the session fails with E_PEER_STALLED
   * however well the server answers pings.
   */
  stallTimeout: number;
  /** Server: how often it tells a client that announced `progress` how far a manifest request's scan has got. */
  progressInterval: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = {
  handshakeTimeout: 10_000,
  keepaliveInterval: 5_000,
  idleTimeout: 15_000,
  stallTimeout: 60_000,
  progressInterval: 5_000,
};

export function resolveTimeouts(overrides: Partial<SessionTimeouts> = {}): SessionTimeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...overrides };
  for (const [key, value] of Object.entries(timeouts)) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`timeouts.${key} must be a positive number of milliseconds`);
  }
  if (timeouts.keepaliveInterval >= timeouts.idleTimeout)
    throw new TypeError('timeouts.keepaliveInterval must be shorter than timeouts.idleTimeout');
  if (timeouts.progressInterval >= timeouts.stallTimeout)
    throw new TypeError('timeouts.progressInterval must be shorter than timeouts.stallTimeout');
  return timeouts;
}
