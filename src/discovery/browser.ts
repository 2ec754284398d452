/**
 * Finds `_synker._tcp` services on every link and keeps the PeerTable up to
 * date: browse queries at 1, 2, 4 … s up to an hour (RFC 6762 §5.2, restarted
 * when a link appears or changes), a refresh query when a known entry reaches
 * 80 % and 90 % of its TTL, resolve queries when an answer lacks the SRV/TXT
 * or address records. Goodbyes and expiries remove entries.
 */
import type { Answer, DecodedPacket, Question } from 'dns-packet';
import { createLogger } from '../base/log.js';
import { BROWSE_FIRST_INTERVAL_MS, BROWSE_MAX_INTERVAL_MS, RECORD_TTL_S, REFRESH_AT, SERVICE_TYPE } from './constants.js';
import { isIpv6LinkLocal } from './interfaces.js';
import type { InboundPacket, LinkSet } from './link-set.js';
import type { MdnsLink } from './link.js';
import type { PeerTable } from './peer-table.js';
import { decodeTxt, type DecodedTxt } from './txt.js';

const log = createLogger('discovery');

interface InstanceState {
  fqdn: string;
  srv?: { host: string; port: number; ttl: number };
  txt?: DecodedTxt;
  /** Per link: when our cache got this instance's PTR and its TTL (for known answers and refreshes). */
  ptr: Map<string, { at: number; ttl: number; refreshed: number }>;
}

const SERVICE_SUFFIX = `.${SERVICE_TYPE}`;

export interface BrowserOptions {
  now?: () => number;
  /** This agent's own device ID: its own announcements (looped back) stay out of the table. */
  selfDeviceId?: string;
}

export class Browser {
  private readonly instances = new Map<string, InstanceState>();
  private browseTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private interval = BROWSE_FIRST_INTERVAL_MS;
  private running = false;
  private readonly now: () => number;
  private readonly selfDeviceId: string | undefined;
  private readonly onUp = (link: MdnsLink): void => {
    void this.query(link);
    this.restartBrowsing();
  };
  private readonly onPacket = (p: InboundPacket): void => this.receive(p);

  constructor(
    private readonly links: LinkSet,
    readonly table: PeerTable,
    options: BrowserOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.selfDeviceId = options.selfDeviceId;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.links.on('up', this.onUp);
    this.links.on('changed', this.onUp);
    this.links.on('packet', this.onPacket);
    for (const link of this.links.list()) void this.query(link);
    this.restartBrowsing();
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.tickTimer.unref();
  }

  stop(): void {
    this.running = false;
    this.links.off('up', this.onUp);
    this.links.off('changed', this.onUp);
    this.links.off('packet', this.onPacket);
    clearTimeout(this.browseTimer);
    clearInterval(this.tickTimer);
  }

  /** Ask every link again now (the CLI does this a few times within its timeout). */
  queryAll(): Promise<void> {
    return Promise.all(this.links.list().map((l) => this.query(l))).then(() => undefined);
  }

  private restartBrowsing(): void {
    clearTimeout(this.browseTimer);
    this.interval = BROWSE_FIRST_INTERVAL_MS;
    const next = (): void => {
      this.browseTimer = setTimeout(() => {
        void this.queryAll();
        this.interval = Math.min(this.interval * 2, BROWSE_MAX_INTERVAL_MS);
        next();
      }, this.interval);
      this.browseTimer.unref();
    };
    next();
  }

  /** A PTR query for our service type, listing the answers we still hold for long enough (RFC 6762 §7.1). */
  private query(link: MdnsLink, questions: Question[] = [{ name: SERVICE_TYPE, type: 'PTR' }]): Promise<void> {
    const now = this.now();
    const known: Answer[] = [];
    if (questions.some((q) => q.type === 'PTR')) {
      for (const state of this.instances.values()) {
        const seen = state.ptr.get(link.name);
        if (!seen) continue;
        const remaining = seen.ttl - (now - seen.at) / 1000;
        if (remaining > seen.ttl / 2) known.push({ name: SERVICE_TYPE, type: 'PTR', ttl: Math.floor(remaining), data: state.fqdn });
      }
    }
    return link.send({ type: 'query', questions, answers: known });
  }

  /** Refresh entries near the end of their TTL; drop the expired ones. */
  private tick(): void {
    const now = this.now();
    const refreshOn = new Set<MdnsLink>();
    for (const state of this.instances.values()) {
      for (const [linkName, seen] of state.ptr) {
        const elapsed = (now - seen.at) / 1000 / seen.ttl;
        if (elapsed >= 1) {
          state.ptr.delete(linkName);
          continue;
        }
        const step = REFRESH_AT[seen.refreshed];
        if (step !== undefined && elapsed >= step) {
          seen.refreshed += 1;
          const link = this.links.list().find((l) => l.name === linkName);
          if (link) refreshOn.add(link);
        }
      }
    }
    for (const link of refreshOn) void this.query(link);
    for (const removed of this.table.expire()) {
      this.instances.delete(removed.instance.toLowerCase());
      log.info(`${removed.name} went silent (no answer within its TTL): removed`);
    }
  }

  private receive({ packet, rinfo, link }: InboundPacket): void {
    if (packet.type !== 'response') return;
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
    const touched = new Set<InstanceState>();
    const hosts = addressesByHost(records);
    for (const r of records) {
      const name = r.name.toLowerCase();
      if (r.type === 'PTR' && name === SERVICE_TYPE) {
        const fqdn = String(r.data);
        if (!fqdn.toLowerCase().endsWith(SERVICE_SUFFIX)) continue;
        if ((r.ttl ?? 0) === 0) {
          this.forget(fqdn);
          continue;
        }
        const state = this.state(fqdn);
        state.ptr.set(link?.name ?? '', { at: this.now(), ttl: r.ttl ?? RECORD_TTL_S, refreshed: 0 });
        touched.add(state);
      } else if ((r.type === 'SRV' || r.type === 'TXT') && name.endsWith(SERVICE_SUFFIX)) {
        if ((r.ttl ?? 0) === 0) {
          this.forget(r.name);
          continue;
        }
        const state = this.state(r.name);
        if (r.type === 'SRV') state.srv = { host: r.data.target, port: r.data.port, ttl: r.ttl ?? RECORD_TTL_S };
        else state.txt = decodeTxt(r.data as Buffer[]);
        touched.add(state);
      }
    }
    for (const state of touched) {
      if (!state.srv || !state.txt) {
        // Only part of the records came: ask for the rest, on the link it came from.
        if (link)
          void this.query(link, [
            { name: state.fqdn, type: 'SRV' },
            { name: state.fqdn, type: 'TXT' },
          ]);
        continue;
      }
      if (this.selfDeviceId !== undefined && state.txt.synker?.deviceId === this.selfDeviceId) continue;
      const found = hosts.get(state.srv.host.toLowerCase());
      let addresses = found?.addresses ?? [];
      if (addresses.length === 0 && rinfo.address && !this.table.get(state.txt.synker?.deviceId ?? '')) {
        // No address records in this answer: the sender's own address is the best we know.
        addresses = [{ address: rinfo.address, family: rinfo.family === 'IPv6' ? 6 : 4 }];
      }
      const ttlS = Math.min(state.srv.ttl, found?.ttl ?? Infinity, ...[...state.ptr.values()].map((p) => p.ttl));
      const entry = this.table.observe({
        instance: state.fqdn,
        host: state.srv.host,
        port: state.srv.port,
        txt: state.txt,
        addresses: addresses.filter((a) => link || !isIpv6LinkLocal(a.address)),
        interface: link?.name,
        ttlMs: ttlS * 1000,
      });
      log.debug(`seen ${entry.name} on ${link?.name ?? 'an unknown interface'}: ${entry.addresses.map((a) => a.address).join(', ')}`);
    }
  }

  private state(fqdn: string): InstanceState {
    const key = fqdn.toLowerCase();
    let state = this.instances.get(key);
    if (!state) {
      state = { fqdn, ptr: new Map() };
      this.instances.set(key, state);
    }
    return state;
  }

  private forget(fqdn: string): void {
    this.instances.delete(fqdn.toLowerCase());
    const gone = this.table.goodbye(fqdn);
    if (gone) log.info(`${gone.name} said goodbye`);
  }
}

/** A and AAAA records of one packet, grouped by host name. */
function addressesByHost(
  records: DecodedPacket['answers'],
): Map<string, { addresses: Array<{ address: string; family: 4 | 6 }>; ttl: number }> {
  const hosts = new Map<string, { addresses: Array<{ address: string; family: 4 | 6 }>; ttl: number }>();
  for (const r of records ?? []) {
    if ((r.type !== 'A' && r.type !== 'AAAA') || (r.ttl ?? 0) === 0) continue;
    const key = r.name.toLowerCase();
    const entry = hosts.get(key) ?? { addresses: [], ttl: Infinity };
    if (!entry.addresses.some((a) => a.address === r.data))
      entry.addresses.push({ address: String(r.data), family: r.type === 'A' ? 4 : 6 });
    entry.ttl = Math.min(entry.ttl, r.ttl ?? RECORD_TTL_S);
    hosts.set(key, entry);
  }
  return hosts;
}
