/**
 * The set of per-interface mDNS links, kept in step with the machine's
 * interfaces: re-read every INTERFACE_POLL_MS, a new interface gets a link,
 * a vanished one loses it, an address change is reported (and the link
 * re-created when its IPv4 address moved) — no restart needed.
 *
 * Every link's socket receives every mDNS packet arriving on any interface
 * (Linux delivers multicast to all sockets bound to the port), so the set
 * handles each packet once and works out which interface it came in on from
 * the sender's subnet. Node's dgram cannot tell the arrival interface
 * (no IP_PKTINFO), so when the sender is on the subnet of none of the links,
 * or of more than one, the interface is reported as unknown rather than
 * guessed: a packet that came in on an interface left out with `--interface`
 * (another local responder, such as Avahi, joined the group there) or
 * through a router must not be taken for one of ours.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import type { DecodedPacket } from 'dns-packet';
import { createLogger } from '../base/log.js';
import { INTERFACE_POLL_MS, MDNS_PORT } from './constants.js';
import { eligibleInterfaces, interfaceSignature, onSubnet, type InterfaceLister, type NetInterface } from './interfaces.js';
import { MdnsLink } from './link.js';
import os from 'node:os';

const log = createLogger('discovery');

export interface InboundPacket {
  packet: DecodedPacket;
  rinfo: RemoteInfo;
  /** The interface the packet arrived on, when the sender is on the subnet of exactly one link (undefined: unknown). */
  link: MdnsLink | undefined;
  /** Sent from one of this machine's own addresses (this or another local process). */
  fromThisHost: boolean;
}

export interface LinkSetEvents {
  /** A link is ready (new interface, or re-created after its address moved). */
  up: [MdnsLink];
  /** Same link, addresses changed (announce again). */
  changed: [MdnsLink];
  down: [MdnsLink];
  packet: [InboundPacket];
}

export interface LinkSetOptions {
  /** Restrict to these interface names (`--interface`). */
  interfaces?: readonly string[];
  pollMs?: number;
  port?: number;
  lister?: InterfaceLister;
}

const DUPLICATE_WINDOW_MS = 500;

export class LinkSet extends EventEmitter<LinkSetEvents> {
  private readonly links = new Map<string, { link: MdnsLink; signature: string }>();
  private readonly recent = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<void> = Promise.resolve();
  private warnedMissing = false;

  constructor(private readonly options: LinkSetOptions = {}) {
    super();
  }

  /** Open links on the current interfaces, then keep following them. */
  async start(): Promise<void> {
    await this.poll();
    // Not unref'd: like a listening socket, running discovery keeps the process alive until stop(),
    // also while no interface is up yet.
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? INTERFACE_POLL_MS);
  }

  list(): MdnsLink[] {
    return [...this.links.values()].map((l) => l.link);
  }

  /** Re-read the interfaces now (tests and the poll timer). */
  poll(): Promise<void> {
    this.polling = this.polling
      .then(() => this.sync())
      .catch((err: unknown) => log.warn('reading network interfaces failed:', err as Error));
    return this.polling;
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const wanted = eligibleInterfaces({ only: this.options.interfaces ?? [] }, this.options.lister ?? os.networkInterfaces);
    this.reportMissing(wanted);
    const byName = new Map(wanted.map((i) => [i.name, i]));
    for (const [name, { link }] of this.links) {
      if (!byName.has(name)) {
        this.links.delete(name);
        log.info(`interface ${name} is gone: no longer announcing or browsing there`);
        await link.close();
        this.emit('down', link);
      }
    }
    for (const iface of wanted) {
      const current = this.links.get(iface.name);
      const signature = interfaceSignature(iface);
      if (current && current.signature === signature) continue;
      if (current && current.link.iface.primary === iface.primary) {
        current.link.iface = iface;
        current.signature = signature;
        log.info(`addresses of ${iface.name} changed: ${signature}`);
        this.emit('changed', current.link);
        continue;
      }
      if (current) {
        // The IPv4 address the socket was tied to moved: a new socket for the new address.
        this.links.delete(iface.name);
        await current.link.close();
        this.emit('down', current.link);
      }
      await this.open(iface, signature);
    }
  }

  private async open(iface: NetInterface, signature: string): Promise<void> {
    const link = new MdnsLink(iface, this.options.port ?? MDNS_PORT);
    link.on('packet', (raw, packet, rinfo) => this.receive(raw, packet, rinfo));
    link.on('error', (err) => log.warn(`mDNS on ${iface.name}:`, err));
    try {
      await link.ready;
    } catch (err) {
      log.warn(`cannot use ${iface.name} for discovery (will retry):`, err as Error);
      await link.close();
      return;
    }
    if (this.stopped) {
      await link.close();
      return;
    }
    this.links.set(iface.name, { link, signature });
    log.debug(`discovery on ${iface.name} (${signature})`);
    this.emit('up', link);
  }

  private reportMissing(wanted: NetInterface[]): void {
    const only = this.options.interfaces ?? [];
    const missing = only.filter((n) => !wanted.some((i) => i.name === n));
    if (missing.length > 0 && !this.warnedMissing) {
      log.warn(
        `interface ${missing.join(', ')} is not up with an IPv4 address (or cannot multicast); discovery will start there when it is`,
      );
      this.warnedMissing = true;
    } else if (missing.length === 0) this.warnedMissing = false;
  }

  private receive(raw: Buffer, packet: DecodedPacket, rinfo: RemoteInfo): void {
    const now = Date.now();
    for (const [key, at] of this.recent) if (now - at > DUPLICATE_WINDOW_MS) this.recent.delete(key);
    const key = `${rinfo.address}:${rinfo.port}:${raw.toString('latin1')}`;
    if (this.recent.has(key)) return;
    this.recent.set(key, now);
    const matching = this.list().filter((l) => onSubnet(l.iface, rinfo.address));
    const link = matching.length === 1 ? matching[0] : undefined;
    const fromThisHost = Object.values(os.networkInterfaces()).some((infos) => infos?.some((i) => i.address === rinfo.address));
    this.emit('packet', { packet, rinfo, link, fromThisHost });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    const links = this.list();
    this.links.clear();
    await Promise.all(links.map((l) => l.close()));
  }
}
