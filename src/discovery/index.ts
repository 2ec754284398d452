/**
 * LAN discovery for the agent and the CLI: per-interface mDNS links, the
 * advertiser (when this process has a service to offer), the browser and
 * its live peer table, and the candidate sources the peer code dials from.
 *
 *   const discovery = await startDiscovery({ advertise: { deviceId, name, port, protocolVersion } });
 *   const finder = new PeerFinder([discovery.candidates, new StaticPeers(config.peers)]);
 *   ...
 *   await discovery.stop();   // goodbye packets on every link
 *
 * See docs/discovery.md.
 */
import { Advertiser, type AdvertiserOptions } from './advertiser.js';
import { Browser } from './browser.js';
import { LinkSet } from './link-set.js';
import { MdnsCandidates } from './mdns-source.js';
import { PeerTable } from './peer-table.js';

export { Advertiser, instanceName, localHostName, type AdvertiserOptions } from './advertiser.js';
export { Browser } from './browser.js';
export { orderCandidates, PeerFinder, type Candidate, type CandidateSource } from './candidates.js';
export { connectToDevice, type DialAttempt } from './connect.js';
export * from './constants.js';
export { DiscoveryError } from './errors.js';
export { eligibleInterfaces, type NetInterface } from './interfaces.js';
export { LinkSet } from './link-set.js';
export { MdnsCandidates } from './mdns-source.js';
export { PeerTable, type PeerEntry, type SeenAddress } from './peer-table.js';
export { parseStaticPeer, StaticPeers, type StaticPeer } from './static-peers.js';
export { decodeTxt, encodeTxt, type SynkerTxt } from './txt.js';

export interface DiscoveryOptions {
  /** Advertise this agent; omit to only browse (the `synker peers` command). */
  advertise?: AdvertiserOptions;
  /** Browse for other agents (default true). */
  browse?: boolean;
  /** Restrict to these interfaces (`--interface`). */
  interfaces?: readonly string[];
  /** How often interfaces are re-read (ms). */
  pollMs?: number;
  /** UDP port (tests only; mDNS is 5353). */
  port?: number;
  now?: () => number;
}

export interface Discovery {
  readonly links: LinkSet;
  readonly table: PeerTable;
  readonly advertiser: Advertiser | undefined;
  readonly browser: Browser | undefined;
  /** The peer table as a candidate source for PeerFinder. */
  readonly candidates: MdnsCandidates;
  /** Send goodbyes (when advertising), close every socket. */
  stop(): Promise<void>;
}

export async function startDiscovery(options: DiscoveryOptions = {}): Promise<Discovery> {
  const links = new LinkSet({
    ...(options.interfaces ? { interfaces: options.interfaces } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.port ? { port: options.port } : {}),
  });
  const table = new PeerTable(options.now ? { now: options.now } : {});
  const advertiser = options.advertise ? new Advertiser(links, options.advertise) : undefined;
  const browser =
    options.browse === false
      ? undefined
      : new Browser(links, table, {
          ...(options.now ? { now: options.now } : {}),
          ...(options.advertise ? { selfDeviceId: options.advertise.deviceId } : {}),
        });
  // Listen before the first links open, so their 'up' starts announcing and browsing.
  advertiser?.start();
  browser?.start();
  await links.start();
  let stopped = false;
  return {
    links,
    table,
    advertiser,
    browser,
    candidates: new MdnsCandidates(table),
    async stop() {
      if (stopped) return;
      stopped = true;
      browser?.stop();
      await advertiser?.stop();
      await links.stop();
    },
  };
}
