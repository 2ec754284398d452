/**
 * One look around the network, for `synker peers`: browse for a while on
 * every link, list the agents registered on this machine (another home of
 * this user), and ask each static peer and local agent who it is (a TLS
 * handshake shows its certificate, hence its device ID; nothing else is
 * exchanged). No advertising. With no interface to search on, it does not
 * wait: nothing could arrive.
 */
import tls from 'node:tls';
import { endProbe, peerDeviceId, TLS_SETTINGS } from '../identity/tls.js';
import { startDiscovery } from './index.js';
import { readLocalAgents, type LocalAgent } from './local-agents.js';
import type { PeerEntry } from './peer-table.js';
import { StaticPeers, type StaticPeer } from './static-peers.js';

export interface StaticPeerReport {
  peer: StaticPeer;
  /** TCP port open at that address. */
  reachable: boolean;
  /** Device ID of the certificate presented there: set when a synker agent answers. */
  deviceId: string | undefined;
  /** What went wrong, in words (connection refused, timed out, not TLS...). */
  error: string | undefined;
}

/** An agent registered on this machine, and who answered at its address. */
export interface LocalAgentReport {
  agent: LocalAgent;
  /** Device ID of the certificate presented at its address (the registered one, unless something else listens there now). */
  deviceId: string | undefined;
  error: string | undefined;
}

export interface Survey {
  /** Interfaces that were searched. */
  interfaces: string[];
  agents: PeerEntry[];
  staticPeers: StaticPeerReport[];
  /** Agents of this user on this machine that answer (also when discovery is off: no network is involved). */
  localAgents: LocalAgentReport[];
}

export interface SurveyOptions {
  timeoutMs: number;
  interfaces?: readonly string[];
  staticPeers?: readonly string[];
  /** Browse with mDNS and list this machine's agents (default true); false: only the static peers are asked. */
  mdns?: boolean;
  /** Where this machine's agents register (default: dirs/runtimeDir). */
  localAgentsDir?: string;
}

export async function surveyPeers(options: SurveyOptions): Promise<Survey> {
  const statics = new StaticPeers(options.staticPeers ?? []);
  const probeStatics = (): Promise<StaticPeerReport[]> => Promise.all(statics.peers.map((p) => probeStaticPeer(p, options.timeoutMs)));
  // This machine's own agents answer with no network, so also with discovery off.
  const local = Promise.all(readLocalAgents(options.localAgentsDir).map((a) => probeLocalAgent(a, options.timeoutMs)));
  // Only those that answer as themselves: a process that died, or another program on its port, is no agent.
  const answering = (all: LocalAgentReport[]): LocalAgentReport[] => all.filter((l) => l.deviceId === l.agent.deviceId);
  if (options.mdns === false) {
    const [staticPeers, localAgents] = await Promise.all([probeStatics(), local]);
    return { interfaces: [], agents: [], staticPeers, localAgents: answering(localAgents) };
  }
  const discovery = await startDiscovery(options.interfaces && options.interfaces.length > 0 ? { interfaces: options.interfaces } : {});
  const interfaces = new Set(discovery.links.list().map((l) => l.name));
  discovery.links.on('up', (l) => interfaces.add(l.name));
  try {
    const [staticPeers, localAgents] = await Promise.all([
      probeStatics(),
      local,
      // Nothing to listen on: say so now rather than after the timeout.
      interfaces.size === 0 ? undefined : new Promise((r) => setTimeout(r, options.timeoutMs)),
    ]);
    return { interfaces: [...interfaces].sort(), agents: discovery.table.list(), staticPeers, localAgents: answering(localAgents) };
  } finally {
    await discovery.stop();
  }
}

async function probeLocalAgent(agent: LocalAgent, timeoutMs: number): Promise<LocalAgentReport> {
  const host = agent.host.includes(':') ? `[${agent.host}]` : agent.host;
  const report = await probeStaticPeer({ text: `${host}:${agent.port}`, host: agent.host, port: agent.port }, timeoutMs);
  return { agent, deviceId: report.deviceId, error: report.error };
}

/** Who answers at a static address: TCP reachability, then the device ID from its TLS certificate. */
export function probeStaticPeer(peer: StaticPeer, timeoutMs: number): Promise<StaticPeerReport> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = tls.connect({
      host: peer.host,
      port: peer.port,
      ...TLS_SETTINGS,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    let settled = false;
    const done = (deviceId: string | undefined, error: string | undefined, polite = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (polite) endProbe(socket);
      else socket.destroy();
      resolve({ peer, reachable: connected, deviceId, error });
    };
    const timer = setTimeout(
      () => done(undefined, connected ? 'no TLS answer (not a synker agent?)' : `no answer within ${Math.round(timeoutMs / 100) / 10} s`),
      timeoutMs,
    );
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => {
      const id = peerDeviceId(socket);
      done(id, id === undefined ? 'answers TLS without a certificate (not a synker agent)' : undefined, true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(undefined, connected ? `the port answers, but it is not a synker agent (${describeTlsError(err)})` : describeSocketError(err)),
    );
    socket.once('close', () => done(undefined, 'the connection was closed before the TLS handshake (not a synker agent?)'));
  });
}

/**
 * OpenSSL's messages are long and span lines ("...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:..."):
 * one short phrase, from the fields Node gives its OpenSSL errors (`code`, `reason`), not from the text.
 */
function describeTlsError(err: NodeJS.ErrnoException & { reason?: unknown }): string {
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.reason === 'wrong version number') return 'it does not speak TLS';
  if (err.code === 'ECONNRESET') return 'it closed the connection';
  return typeof err.reason === 'string' && err.reason !== '' ? err.reason : err.message.split('\n')[0]!.slice(0, 120);
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
