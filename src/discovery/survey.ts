/**
 * One look around the network, for `synker peers`: browse for a while on
 * every link, and check each static peer's TCP port. No advertising.
 */
import net from 'node:net';
import { startDiscovery } from './index.js';
import type { PeerEntry } from './peer-table.js';
import { StaticPeers, type StaticPeer } from './static-peers.js';

export interface StaticPeerReport {
  peer: StaticPeer;
  /** TCP port open at that address. */
  reachable: boolean;
  /** Why not, in words (connection refused, timed out...). */
  error: string | undefined;
}

export interface Survey {
  /** Interfaces that were searched. */
  interfaces: string[];
  agents: PeerEntry[];
  staticPeers: StaticPeerReport[];
}

export interface SurveyOptions {
  timeoutMs: number;
  interfaces?: readonly string[];
  staticPeers?: readonly string[];
}

export async function surveyPeers(options: SurveyOptions): Promise<Survey> {
  const statics = new StaticPeers(options.staticPeers ?? []);
  const discovery = await startDiscovery(options.interfaces && options.interfaces.length > 0 ? { interfaces: options.interfaces } : {});
  const interfaces = new Set(discovery.links.list().map((l) => l.name));
  discovery.links.on('up', (l) => interfaces.add(l.name));
  try {
    const [staticPeers] = await Promise.all([
      Promise.all(statics.peers.map((p) => probeTcp(p, options.timeoutMs))),
      new Promise((r) => setTimeout(r, options.timeoutMs)),
    ]);
    return { interfaces: [...interfaces].sort(), agents: discovery.table.list(), staticPeers };
  } finally {
    await discovery.stop();
  }
}

/** Is the peer's TCP port open? (A full hello needs the protocol client; this tells reachable from not.) */
export function probeTcp(peer: StaticPeer, timeoutMs: number): Promise<StaticPeerReport> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: peer.host, port: peer.port });
    const done = (error: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ peer, reachable: error === undefined, error });
    };
    const timer = setTimeout(() => done(`no answer within ${Math.round(timeoutMs / 100) / 10} s`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(describeSocketError(err)));
  });
}

function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to that address';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    default:
      return err.message;
  }
}
