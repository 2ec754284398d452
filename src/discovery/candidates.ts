/**
 * The seam between discovery and the peer code (after Syncthing's
 * discover.Finder): a CandidateSource yields addresses where a device might
 * be reached; the PeerFinder merges every source (mDNS, static peers, later
 * others) and orders the result. Nothing here trusts an address: the
 * connection verifies the device ID on connect.
 */
import { isIpv4LinkLocal, isIpv6LinkLocal } from './interfaces.js';

export interface Candidate {
  /** IP address or host name; IPv6 link-local addresses carry their zone (`fe80::1%eth0`). */
  host: string;
  port: number;
  /** 4 or 6 for IP addresses, undefined for host names. */
  family: 4 | 6 | undefined;
  /** Interface the address was seen on (mDNS) — needed to dial IPv6 link-local addresses. */
  interface: string | undefined;
  /** `local`: an agent of this machine, from the runtime folder (local-agents.ts). */
  source: 'local' | 'mdns' | 'static';
  /** When this address was last confirmed (mDNS answer time); undefined for static entries. */
  lastSeen: number | undefined;
}

export interface CandidateSource {
  readonly name: string;
  /** Addresses where `deviceId` may be reached right now (possibly none). */
  candidates(deviceId: string): Candidate[];
  /** Subscribe to "something changed, ask again"; returns the unsubscribe function. */
  onChange?(listener: () => void): () => void;
}

/**
 * Order: agents registered on this machine and addresses just seen over
 * mDNS before static ones (fresh beats configured); among them routable IPv4, then global/ULA IPv6, then IPv4
 * link-local, then IPv6 link-local (dialable only with its zone); the most
 * recently seen first; duplicates dropped.
 */
export function orderCandidates(list: Candidate[]): Candidate[] {
  const rank = (c: Candidate): number => {
    const base = c.source === 'static' ? 10 : 0;
    if (c.family === 4) return base + (isIpv4LinkLocal(c.host) ? 3 : 1);
    if (c.family === 6) return base + (isIpv6LinkLocal(c.host) ? 4 : 2);
    return base + 5;
  };
  const seen = new Set<string>();
  return [...list]
    .sort((a, b) => rank(a) - rank(b) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
    .filter((c) => {
      const key = `${c.host}|${c.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

export class PeerFinder {
  constructor(private readonly sources: CandidateSource[]) {}

  add(source: CandidateSource): void {
    this.sources.push(source);
  }

  candidates(deviceId: string): Candidate[] {
    return orderCandidates(this.sources.flatMap((s) => s.candidates(deviceId)));
  }

  /**
   * Candidates for `deviceId`, waiting up to `timeoutMs` for a source to
   * produce one (an agent just started has not heard its peers yet); at
   * once when no source can change. Returns an empty list when none came.
   */
  async waitForCandidates(deviceId: string, timeoutMs: number, signal?: AbortSignal): Promise<Candidate[]> {
    const now = this.candidates(deviceId);
    // Only a live source (mDNS) can produce one later: with static addresses and this machine's own
    // agents alone, waiting would only delay saying "not found".
    if (now.length > 0 || timeoutMs <= 0 || !this.sources.some((s) => s.onChange !== undefined)) return now;
    return new Promise((resolve) => {
      const unsubscribers: Array<() => void> = [];
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        for (const u of unsubscribers) u();
        resolve(this.candidates(deviceId));
      };
      const timer = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', finish, { once: true });
      for (const s of this.sources) {
        const u = s.onChange?.(() => {
          if (this.candidates(deviceId).length > 0) finish();
        });
        if (u) unsubscribers.push(u);
      }
    });
  }
}
