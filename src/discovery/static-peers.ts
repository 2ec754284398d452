/**
 * Static peers — `--peer host:port` and `peers` in the config — for networks
 * where multicast does not get through (AP client isolation, VPNs, routed
 * subnets). A static address is a candidate for any device ID until a
 * connection tells which device answers there; the device ID is verified on
 * connect either way.
 */
import { isIP } from 'node:net';
import type { Candidate, CandidateSource } from './candidates.js';
import { DiscoveryError } from './errors.js';

export interface StaticPeer {
  /** As the user wrote it. */
  text: string;
  host: string;
  port: number;
}

/** Parse `host:port`, `1.2.3.4:port`, `[v6]:port` or `[fe80::1%eth0]:port`. */
export function parsePeerAddress(text: string): StaticPeer {
  const input = text.trim();
  const bad = (why: string): DiscoveryError =>
    new DiscoveryError('E_PEER_ADDRESS', `"${text}" is not a peer address: ${why}`, {
      hint: 'Write it as host:port, e.g. 192.168.1.20:22000, nas.local:22000 or [fe80::1%eth0]:22000.',
    });
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(input);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (isIP(host.split('%')[0]!) !== 6) throw bad(`${host} is not an IPv6 address`);
  } else {
    const colon = input.lastIndexOf(':');
    if (colon <= 0) throw bad('the port is missing');
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (host.includes(':')) throw bad('put an IPv6 address in brackets: [address]:port');
    if (!/^[A-Za-z0-9.-]+$/.test(host)) throw bad(`"${host}" is not a host name or IPv4 address`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad(`"${portText}" is not a port number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad(`port ${port} is outside 1-65535`);
  return { text: input, host, port };
}

export class StaticPeers implements CandidateSource {
  readonly name = 'static';
  readonly peers: StaticPeer[];
  /** host:port → device ID that answered there, learned from connections. */
  private readonly learned = new Map<string, string>();

  constructor(addresses: readonly string[]) {
    const seen = new Set<string>();
    this.peers = addresses.map(parsePeerAddress).filter((p) => {
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
