/**
 * Caps on concurrent connections, in total and per remote address, so a
 * noisy or hostile LAN cannot exhaust the agent.
 */
export interface ConnectionCaps {
  maxSessions: number;
  maxSessionsPerAddress: number;
}

export const DEFAULT_CAPS: ConnectionCaps = { maxSessions: 32, maxSessionsPerAddress: 4 };

export class ConnectionLimiter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly caps: ConnectionCaps) {}

  /** Take a slot for `address`, or return why not. Call release() exactly once after a success. */
  admit(address: string): string | undefined {
    if (this.total >= this.caps.maxSessions) return `the agent already has ${this.total} connections (limit ${this.caps.maxSessions})`;
    const current = this.byAddress.get(address) ?? 0;
    if (current >= this.caps.maxSessionsPerAddress)
      return `${address} already has ${current} connections (limit ${this.caps.maxSessionsPerAddress})`;
    this.total++;
    this.byAddress.set(address, current + 1);
    return undefined;
  }

  release(address: string): void {
    this.total--;
    const current = this.byAddress.get(address) ?? 1;
    if (current <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, current - 1);
  }

  get active(): number {
    return this.total;
  }
}
