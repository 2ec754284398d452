/**
 * The live table of agents seen on the LAN. Fed by the mDNS browser with one
 * observation per answer; keeps, per agent: device ID (when its TXT record is
 * a valid synker record — anything else is listed as an unknown agent),
 * name, port, the addresses with the interface each was seen on, first and
 * last seen. Goodbyes remove entries; entries and addresses not refreshed
 * within their TTL (at most MAX_SILENCE_MS) expire; an answer carrying new
 * addresses for an interface replaces that interface's old ones.
 * Time comes from an injected clock so tests can drive it.
 */
import { EventEmitter } from 'node:events';
import { printablePath } from '../base/printable.js';
import { MAX_SILENCE_MS } from './constants.js';
import type { DecodedTxt } from './txt.js';

export interface SeenAddress {
  address: string;
  family: 4 | 6;
  /** Interface the answer carrying this address arrived on (undefined: could not tell). */
  interface: string | undefined;
  lastSeen: number;
  expiresAt: number;
}

export interface PeerEntry {
  /** Device ID for synker agents, `instance:<name>` for other services of our type. */
  key: string;
  deviceId: string | undefined;
  /** DNS-SD instance name (`laptop (ABCDEFG)._synker._tcp.local`). */
  instance: string;
  name: string;
  protocolVersion: number | undefined;
  /** Why this is not a valid synker agent (empty for synker agents). */
  problems: string[];
  host: string;
  port: number;
  addresses: SeenAddress[];
  firstSeen: number;
  lastSeen: number;
  expiresAt: number;
}

export interface Observation {
  instance: string;
  host: string;
  port: number;
  txt: DecodedTxt;
  /** Addresses this answer carried; an empty list keeps the ones already known. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
  /** Interface the answer arrived on. */
  interface: string | undefined;
  /** Smallest TTL among the answer's records, in ms. */
  ttlMs: number;
}

export type RemovalReason = 'goodbye' | 'expired';

export interface PeerTableEvents {
  added: [PeerEntry];
  updated: [PeerEntry];
  removed: [PeerEntry, RemovalReason];
}

export interface PeerTableOptions {
  now?: () => number;
  /** Upper bound on how long a silent entry is kept (default MAX_SILENCE_MS). */
  maxSilenceMs?: number;
}

export class PeerTable extends EventEmitter<PeerTableEvents> {
  private readonly entries = new Map<string, PeerEntry>();
  private readonly now: () => number;
  private readonly maxSilenceMs: number;

  constructor(options: PeerTableOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.maxSilenceMs = options.maxSilenceMs ?? MAX_SILENCE_MS;
  }

  observe(obs: Observation): PeerEntry {
    const now = this.now();
    const ttl = Math.max(1000, Math.min(obs.ttlMs, this.maxSilenceMs));
    const deviceId = obs.txt.synker?.deviceId;
    const key = deviceId ?? `instance:${obs.instance.toLowerCase()}`;
    // The same instance may have been listed under another key (its TXT record changed): keep one entry.
    for (const [k, e] of this.entries) {
      if (k !== key && e.instance.toLowerCase() === obs.instance.toLowerCase()) this.entries.delete(k);
    }
    const existing = this.entries.get(key);
    const fresh = obs.addresses.map((a) => ({ ...a, interface: obs.interface, lastSeen: now, expiresAt: now + ttl }));
    const entry: PeerEntry = {
      key,
      deviceId,
      instance: obs.instance,
      // Anyone on the link picks the instance name: escaped like every name from the network (the TXT name is cleaned in txt.ts).
      name: obs.txt.synker?.name ?? printablePath(instanceLabel(obs.instance)),
      protocolVersion: obs.txt.synker?.protocolVersion,
      problems: obs.txt.problems,
      host: obs.host,
      port: obs.port,
      addresses:
        fresh.length === 0
          ? (existing?.addresses ?? [])
          : [...(existing?.addresses ?? []).filter((a) => a.interface !== obs.interface), ...fresh],
      firstSeen: existing?.firstSeen ?? now,
      lastSeen: now,
      expiresAt: now + ttl,
    };
    this.entries.set(key, entry);
    if (!existing) this.emit('added', entry);
    else if (changed(existing, entry)) this.emit('updated', entry);
    return entry;
  }

  /** A goodbye (TTL 0) for an instance: forget it now. */
  goodbye(instance: string): PeerEntry | undefined {
    for (const [key, entry] of this.entries) {
      if (entry.instance.toLowerCase() === instance.toLowerCase()) {
        this.entries.delete(key);
        this.emit('removed', entry, 'goodbye');
        return entry;
      }
    }
    return undefined;
  }

  /** Drop what was not refreshed in time; returns the removed entries. */
  expire(): PeerEntry[] {
    const now = this.now();
    const removed: PeerEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        removed.push(entry);
        this.emit('removed', entry, 'expired');
        continue;
      }
      const kept = entry.addresses.filter((a) => a.expiresAt > now);
      if (kept.length !== entry.addresses.length) {
        entry.addresses = kept;
        this.emit('updated', entry);
      }
    }
    return removed;
  }

  get(deviceId: string): PeerEntry | undefined {
    return this.entries.get(deviceId);
  }

  list(): PeerEntry[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The instance label of a full service-instance name (`laptop (X)._synker._tcp.local` → `laptop (X)`). */
export function instanceLabel(instance: string): string {
  const i = instance.toLowerCase().indexOf('._synker._tcp.');
  return i === -1 ? instance : instance.slice(0, i);
}

function addressKey(a: SeenAddress): string {
  return `${a.interface ?? ''}|${a.address}`;
}

function changed(before: PeerEntry, after: PeerEntry): boolean {
  if (
    before.name !== after.name ||
    before.port !== after.port ||
    before.host !== after.host ||
    before.protocolVersion !== after.protocolVersion
  )
    return true;
  const a = before.addresses.map(addressKey).sort().join(',');
  const b = after.addresses.map(addressKey).sort().join(',');
  return a !== b;
}
