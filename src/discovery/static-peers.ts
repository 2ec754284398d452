/**
 * Static peers — `--peer host:port` and `peers` in the config — for networks
 * where multicast does not get through (AP client isolation, VPNs, routed
 * subnets). A static address is a candidate for any device ID until a
 * connection tells which device answers there; the device ID is verified on
 * connect either way.
 */
import { isIP } from 'node:net';
import { parsePeerAddress } from '../config/peer-address.js';
import type { Candidate, CandidateSource } from './candidates.js';
import { DiscoveryError } from './errors.js';

export interface StaticPeer {
  /** As the user wrote it. */
  text: string;
  host: string;
  port: number;
}

/**
 * A static peer as the user wrote it (`host:port`, `host`, `[v6]:port`,
 * `[fe80::1%eth0]:port`), parsed by the one rule for peer addresses
 * (config/peer-address.ts), so it means the same on the command line and in
 * the config; an invalid one is a DiscoveryError with a hint.
 */
export function parseStaticPeer(text: string): StaticPeer {
  const parsed = parsePeerAddress(text);
  if (typeof parsed === 'string') {
    throw new DiscoveryError('E_PEER_ADDRESS', `"${text}" is not a peer address: ${parsed}`, {
      hint: 'Write it as host:port, e.g. 192.168.1.20:7780, nas.local:7780 or [fe80::1%eth0]:7780.',
    });
  }
  return { text: text.trim(), host: parsed.host, port: parsed.port };
}

export class StaticPeers implements CandidateSource {
  readonly name = 'static';
  readonly peers: StaticPeer[];
  /** host:port → device ID that answered there, learned from connections. */
  private readonly learned = new Map<string, string>();

  constructor(addresses: readonly string[]) {
    const seen = new Set<string>();
    this.peers = addresses.map(parseStaticPeer).filter((p) => {
      const key = `${p.host}|${p.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** Remember which device answered at a static address, so other devices' lookups skip it. */
  learn(host: string, port: number, deviceId: string): void {
    this.learned.set(`${host}|${port}`, deviceId);
  }

  deviceAt(peer: StaticPeer): string | undefined {
    return this.learned.get(`${peer.host}|${peer.port}`);
  }

  candidates(deviceId: string): Candidate[] {
    return this.peers
      .filter((p) => {
        const known = this.deviceAt(p);
        return known === undefined || known === deviceId;
      })
      .map((p) => {
        const ip = isIP(p.host.split('%')[0]!);
        return {
          host: p.host,
          port: p.port,
          family: ip === 4 ? 4 : ip === 6 ? 6 : undefined,
          interface: p.host.includes('%') ? p.host.split('%')[1] : undefined,
          source: 'static',
          lastSeen: undefined,
        } satisfies Candidate;
      });
  }
}
