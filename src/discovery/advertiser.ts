/**
 * Publishes this agent as `<name> (<short device ID>)._synker._tcp.local` on
 * every link: announces on start and whenever a link's addresses change
 * (RFC 6762 §8.3 spacing), answers queries on the link they came in on with
 * that link's addresses only (§14), and says goodbye (TTL 0) on stop.
 * An agent listening on one address only (`--listen`) is published with that
 * address alone, on the link that has it. A new name (config edited) is a
 * goodbye for the old instance and announcements of the new one.
 * Nothing is sent periodically: when idle, it only answers.
 */
import os from 'node:os';
import type { Answer, DecodedPacket, Question } from 'dns-packet';
import { shortDeviceId } from '../identity/device-id.js';
import { createLogger } from '../base/log.js';
import { ANNOUNCE_DELAYS_MS, MDNS_PORT, RECORD_TTL_S, SERVICE_TYPE, SERVICES_ENUMERATION, SHARED_ANSWER_DELAY_MS } from './constants.js';
import { isLoopbackAddress } from './interfaces.js';
import type { InboundPacket, LinkSet } from './link-set.js';
import type { MdnsLink } from './link.js';
import { cleanAgentName, encodeTxt, MAX_NAME_BYTES, truncateUtf8, type SynkerTxt } from './txt.js';

const log = createLogger('discovery');

export interface AdvertiserOptions extends SynkerTxt {
  /** TCP port the agent listens on. */
  port: number;
  /** Host name without `.local` (default: this machine's, first label). */
  hostname?: string;
  /**
   * The address the agent accepts connections on. A specific one (`--listen`) is the only address
   * published, and only on the link that has it; `0.0.0.0` publishes IPv4 addresses only; `::` or
   * undefined, every address.
   */
  listenAddress?: string;
}

/** `<name> (<short ID>)`: unique per device even when two laptops share a name. */
export function instanceName(name: string, deviceId: string): string {
  const suffix = ` (${shortDeviceId(deviceId)})`;
  return `${truncateUtf8(cleanAgentName(name), MAX_NAME_BYTES - Buffer.byteLength(suffix))}${suffix}`;
}

/** `<hostname>.local`, the SRV target (a bare host name would not resolve over mDNS). */
export function localHostName(hostname = os.hostname()): string {
  const label =
    hostname
      .split('.')[0]!
      .replace(/[^A-Za-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '') || 'synker-host';
  return `${label.slice(0, 63)}.local`;
}

/** Whether a connection to `address` reaches an agent listening on `listen` (both as Node prints them). */
export function listensOn(listen: string | undefined, address: string, family: 4 | 6): boolean {
  if (listen === undefined || listen === '::') return true;
  if (listen === '0.0.0.0') return family === 4;
  return listen.split('%')[0]!.toLowerCase() === address.split('%')[0]!.toLowerCase();
}

export class Advertiser {
  private name!: { instance: string; fqdn: string; txt: Buffer[] };
  readonly host: string;
  private readonly timers = new Map<MdnsLink, NodeJS.Timeout[]>();
  private running = false;
  private readonly onUp = (link: MdnsLink): void => this.announce(link);
  private readonly onDown = (link: MdnsLink): void => this.cancel(link);
  private readonly onPacket = (p: InboundPacket): void => this.answer(p);

  constructor(
    private readonly links: LinkSet,
    private options: AdvertiserOptions,
  ) {
    this.host = localHostName(options.hostname);
    this.setName(options.name);
  }

  get instance(): string {
    return this.name.instance;
  }

  get fqdn(): string {
    return this.name.fqdn;
  }

  private setName(name: string): void {
    this.options = { ...this.options, name };
    const instance = instanceName(name, this.options.deviceId);
    this.name = { instance, fqdn: `${instance}.${SERVICE_TYPE}`, txt: encodeTxt(this.options) };
  }

  /** The links this agent is announced on: all of them, or with a specific listen address the one(s) that have it. */
  served(): MdnsLink[] {
    return this.links.list().filter((link) => this.serves(link));
  }

  private serves(link: MdnsLink): boolean {
    return link.iface.addresses.some((a) => listensOn(this.options.listenAddress, a.address, a.family));
  }

  /**
   * Publish under a new name (the config's `name` changed): a goodbye for the old instance, so peers
   * drop it at once instead of listing it until its TTL runs out, then the new one announced as on start.
   */
  async rename(name: string): Promise<void> {
    if (name === this.options.name) return;
    const before = { instance: this.instance, fqdn: this.fqdn };
    const goodbye = this.serviceRecords(0);
    this.setName(name);
    if (!this.running) return;
    for (const link of [...this.timers.keys()]) this.cancel(link);
    log.info(`renamed: announcing "${this.instance}" (and a goodbye for "${before.instance}")`);
    if (before.fqdn.toLowerCase() !== this.fqdn.toLowerCase())
      await Promise.all(this.served().map((link) => link.send({ type: 'response', answers: goodbye })));
    for (const link of this.links.list()) this.announce(link);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.links.on('up', this.onUp);
    this.links.on('changed', this.onUp);
    this.links.on('down', this.onDown);
    this.links.on('packet', this.onPacket);
    for (const link of this.links.list()) this.announce(link);
  }

  /** Goodbye on every link (service records with TTL 0), then stop answering. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.links.off('up', this.onUp);
    this.links.off('changed', this.onUp);
    this.links.off('down', this.onDown);
    this.links.off('packet', this.onPacket);
    for (const link of [...this.timers.keys()]) this.cancel(link);
    await Promise.all(this.served().map((link) => link.send({ type: 'response', answers: this.serviceRecords(0) })));
  }

  /** PTR, SRV, TXT with the given TTL. Address records belong to the host, so goodbyes leave them alone. */
  private serviceRecords(ttl: number): Answer[] {
    return [
      { name: SERVICE_TYPE, type: 'PTR', ttl, data: this.fqdn },
      { name: this.fqdn, type: 'SRV', ttl, flush: true, data: { port: this.options.port, target: this.host, priority: 0, weight: 0 } },
      { name: this.fqdn, type: 'TXT', ttl, flush: true, data: this.name.txt },
    ];
  }

  /** This link's addresses only (RFC 6762 §14) that the agent listens on; loopback addresses only on a loopback link. */
  addressRecords(link: MdnsLink, ttl = RECORD_TTL_S): Answer[] {
    return link.iface.addresses
      .filter((a) => (link.iface.loopback || !isLoopbackAddress(a.address)) && listensOn(this.options.listenAddress, a.address, a.family))
      .map((a) => ({ name: this.host, type: a.family === 4 ? 'A' : 'AAAA', ttl, flush: true, data: a.address }) as Answer);
  }

  private announce(link: MdnsLink): void {
    if (!this.running) return;
    this.cancel(link);
    if (!this.serves(link)) {
      log.debug(`not announcing on ${link.name}: the agent listens on ${this.options.listenAddress} only`);
      return;
    }
    const timers = ANNOUNCE_DELAYS_MS.map((delay) =>
      setTimeout(
        () => void link.send({ type: 'response', answers: [...this.serviceRecords(RECORD_TTL_S), ...this.addressRecords(link)] }),
        delay,
      ),
    );
    this.timers.set(link, timers);
    log.debug(`announcing ${this.instance} on ${link.name}`);
  }

  private cancel(link: MdnsLink): void {
    for (const t of this.timers.get(link) ?? []) clearTimeout(t);
    this.timers.delete(link);
  }

  private answer({ packet, rinfo, link }: InboundPacket): void {
    if (packet.type !== 'query' || !packet.questions?.length) return;
    const legacy = rinfo.port !== MDNS_PORT;
    if (legacy && !link) {
      // A unicast reply goes wherever the routing table sends it, whichever link it is sent through: with the
      // arrival interface unknown, any link's addresses could be the wrong ones for the asker (RFC 6762 §14).
      log.debug(
        `not answering the one-shot query from ${rinfo.address}:${rinfo.port}: it is on the subnet of none (or several) of our interfaces, so the one it came in on is unknown`,
      );
      return;
    }
    // A multicast query whose sender is on none of our subnets is answered on every link, each with its own addresses:
    // each answer stays on its own link.
    const targets = (link ? [link] : this.links.list()).filter((l) => this.serves(l));
    for (const target of targets) {
      const reply = this.replyFor(target, packet.questions, packet.answers ?? []);
      if (!reply) continue;
      if (legacy) {
        // RFC 6762 §6.7: a one-shot resolver (not on port 5353) gets a unicast DNS reply.
        const answers = reply.answers
          .concat(reply.additionals)
          .map((a) => ({ ...a, ttl: Math.min((a as { ttl?: number }).ttl ?? 10, 10), flush: false }) as Answer);
        void target.send(
          { type: 'response', id: packet.id ?? 0, questions: packet.questions, answers },
          { address: rinfo.address, port: rinfo.port },
        );
        continue;
      }
      const [min, max] = SHARED_ANSWER_DELAY_MS;
      const delay = reply.shared ? min + Math.random() * (max - min) : 0;
      setTimeout(() => {
        if (this.running) void target.send({ type: 'response', answers: reply.answers, additionals: reply.additionals });
      }, delay).unref();
    }
  }

  private replyFor(
    link: MdnsLink,
    questions: Question[],
    known: DecodedPacket['answers'],
  ): { answers: Answer[]; additionals: Answer[]; shared: boolean } | undefined {
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    let shared = false;
    const [ptr, srv, txt] = this.serviceRecords(RECORD_TTL_S);
    const addresses = this.addressRecords(link);
    // dns-packet decodes QTYPE 255 as 'ANY', which its types do not list.
    const typeOf = (q: Question): string => q.type as string;
    const is = (q: Question, name: string, ...types: string[]): boolean =>
      q.name.toLowerCase() === name.toLowerCase() && (types.includes(typeOf(q)) || typeOf(q) === 'ANY');
    for (const q of questions) {
      if (is(q, SERVICE_TYPE, 'PTR')) {
        // Known-answer suppression (RFC 6762 §7.1): the asker already holds our PTR with at least half its TTL.
        const knows = (known ?? []).some(
          (a) =>
            a.type === 'PTR' &&
            a.name.toLowerCase() === SERVICE_TYPE &&
            String(a.data).toLowerCase() === this.fqdn.toLowerCase() &&
            (a.ttl ?? 0) >= RECORD_TTL_S / 2,
        );
        if (knows) continue;
        answers.push(ptr!);
        additionals.push(srv!, txt!, ...addresses);
        shared = true;
      } else if (is(q, SERVICES_ENUMERATION, 'PTR')) {
        answers.push({ name: SERVICES_ENUMERATION, type: 'PTR', ttl: RECORD_TTL_S, data: SERVICE_TYPE });
        shared = true;
      } else if (is(q, this.fqdn, 'SRV', 'TXT')) {
        if (typeOf(q) !== 'TXT') answers.push(srv!);
        if (typeOf(q) !== 'SRV') answers.push(txt!);
        additionals.push(...addresses);
      } else if (is(q, this.host, 'A', 'AAAA')) {
        answers.push(...addresses.filter((a) => typeOf(q) === 'ANY' || a.type === typeOf(q)));
      }
    }
    if (answers.length === 0) return undefined;
    const inAnswers = new Set(answers);
    return { answers, additionals: [...new Set(additionals)].filter((a) => !inAnswers.has(a)), shared };
  }
}
