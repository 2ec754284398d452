/**
 * Addresses of a device, one by one, for callers that try them in turn
 * (`synker check` finding the source of a folder): the static peers first
 * (cheap, no network), then the agents registered on this machine (another
 * home of this user: local-agents.ts), then — started only when asked for
 * more — what mDNS finds on the LAN. Addresses are hints; the caller pins
 * the device ID.
 *
 *   const locator = new DiscoveryLocator({ staticPeers: config.peers });
 *   for await (const { host, port, via } of locator.addresses(deviceId, { waitMs: 5000 })) ...
 *   await locator.close();
 */
import { PeerFinder } from './candidates.js';
import type { Discovery } from './index.js';
import { LocalAgents } from './local-agents.js';
import { StaticPeers } from './static-peers.js';

export interface LocatedAddress {
  host: string;
  port: number;
  /** Where it came from, for messages: `config` (static peers), `this machine` (a registered agent) or `mdns`. */
  via: string;
}

/** Why the LAN search could not look anywhere, and what to do about it. */
export interface LanProblem {
  problem: string;
  hint: string;
}

export interface DiscoveryLocatorOptions {
  /** `peers` from the config (and any other static addresses). */
  staticPeers?: readonly string[];
  /** Restrict mDNS to these interfaces. */
  interfaces?: readonly string[];
  /** Do not use mDNS (nor the agents registered on this machine) at all: static peers only. */
  mdns?: boolean;
  /** Who named `interfaces`, after "the" in messages (default `--interface`; an agent's check says "agent's --interface"). */
  interfacesFlag?: string;
  /** The folder where this machine's agents register (default: dirs/runtimeDir). */
  localAgentsDir?: string;
}

export class DiscoveryLocator {
  readonly statics: StaticPeers;
  private discovery: Promise<Discovery> | undefined;
  /** Set once mDNS has started (lanProblem() reads its links). */
  private started: Discovery | undefined;
  private closed = false;

  constructor(private readonly options: DiscoveryLocatorOptions = {}) {
    this.statics = new StaticPeers(options.staticPeers ?? []);
  }

  /** Whether it looks on the LAN (mDNS) beyond the static addresses: what a "not found" hint should suggest. */
  get searchesLan(): boolean {
    return this.options.mdns !== false;
  }

  async *addresses(deviceId: string, options: { waitMs: number; signal?: AbortSignal | undefined }): AsyncGenerator<LocatedAddress> {
    const given = new Set<string>();
    for (const c of this.statics.candidates(deviceId)) {
      given.add(`${c.host}|${c.port}`);
      yield { host: c.host, port: c.port, via: 'config' };
    }
    // Another home of this user on this machine: known at once, no network needed, so also with
    // discovery off (--no-discovery turns off the search on the network, not this machine's own list).
    const local = new LocalAgents(this.options.localAgentsDir);
    for (const c of local.candidates(deviceId)) {
      if (given.has(`${c.host}|${c.port}`)) continue;
      given.add(`${c.host}|${c.port}`);
      yield { host: c.host, port: c.port, via: 'this machine' };
    }
    if (this.options.mdns === false || this.closed) return;
    // Loaded only now: a check whose source answers at a known address never pays for the mDNS stack.
    this.discovery ??= import('./index.js').then(({ startDiscovery }) =>
      startDiscovery(this.options.interfaces && this.options.interfaces.length > 0 ? { interfaces: this.options.interfaces } : {}),
    );
    const discovery = await this.discovery;
    this.started = discovery;
    // No interface to search on is known now: waiting would only delay saying so.
    if (discovery.links.list().length === 0) return;
    const found = await new PeerFinder([discovery.candidates, local]).waitForCandidates(deviceId, options.waitMs, options.signal);
    for (const c of found) {
      // IPv6 link-local needs its zone, which the peer client cannot dial (docs/discovery.md).
      if (c.host.includes('%') || given.has(`${c.host}|${c.port}`)) continue;
      given.add(`${c.host}|${c.port}`);
      yield { host: c.host, port: c.port, via: c.source === 'local' ? 'this machine' : 'mdns' };
    }
  }

  /**
   * Why mDNS could not look anywhere: no interface was up to search on (an
   * --interface typo, or a machine without a network). Otherwise the failure
   * would read as "the source is not on the network"; the LinkSet's warning
   * goes to the log only, which is the agent's when the agent does the check.
   * The hint names --interface only when interfaces were named.
   */
  lanProblem(): LanProblem | undefined {
    if (this.started === undefined || this.started.links.list().length > 0) return undefined;
    const named = this.options.interfaces ?? [];
    const flag = this.options.interfacesFlag ?? '--interface';
    if (named.length > 0) {
      return {
        problem: `no network interface to search on (${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} not up with an IPv4 address)`,
        hint: `Check the ${flag} name (\`ip address\` lists the interfaces that are up), or give the source's address: --peer host:port.`,
      };
    }
    return {
      problem: 'no network interface to search on (none is up with an IPv4 address and multicast, besides loopback)',
      hint: "Connect this machine to a network, or give the source's address: --peer host:port.",
    };
  }

  /** Stop mDNS if it was started. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.discovery) await (await this.discovery).stop();
  }
}
