/**
 * One mDNS socket per network interface. multicast-dns, left to itself, sends
 * on one interface the OS picks (issues #32, #43, #68 there); here each
 * instance is pinned to one interface (multicast membership and outgoing
 * interface set to that interface's IPv4 address, bound to 0.0.0.0:5353 with
 * SO_REUSEADDR like every other mDNS responder), so an answer sent through
 * a link goes out on that interface only and carries that interface's
 * addresses (RFC 6762 §14).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import makeMdns from 'multicast-dns';
import type { Packet } from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { createLogger } from '../base/log.js';
import { MDNS_GROUP_V4, MDNS_PORT } from './constants.js';
import type { NetInterface } from './interfaces.js';

const log = createLogger('discovery');

export interface LinkEvents {
  packet: [raw: Buffer, packet: DecodedPacket, rinfo: RemoteInfo];
  error: [Error];
}

export class MdnsLink extends EventEmitter<LinkEvents> {
  iface: NetInterface;
  readonly ready: Promise<void>;
  private readonly mdns: makeMdns.MulticastDNS;
  private closed = false;

  constructor(iface: NetInterface, port = MDNS_PORT) {
    super();
    this.iface = iface;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    // multicast-dns hands out decoded packets only; the raw bytes (seen first
    // here) let the link set recognise the copy every other socket also gets.
    let raw: Buffer = Buffer.alloc(0);
    socket.on('message', (msg: Buffer) => {
      raw = msg;
    });
    this.mdns = makeMdns({ socket, interface: iface.primary, bind: '0.0.0.0', port, loopback: true, ttl: 255 });
    this.mdns.on('packet', (packet: DecodedPacket, rinfo: RemoteInfo) => this.emit('packet', raw, packet, rinfo));
    this.mdns.on('warning', (err: Error) => log.debug(`mDNS on ${iface.name}: ${err.message}`));
    this.ready = new Promise((resolve, reject) => {
      this.mdns.once('ready', () => resolve());
      this.mdns.once('error', (err: Error) => reject(err));
    });
    this.ready.catch(() => undefined);
    this.mdns.on('error', (err: Error) => this.emit('error', err));
  }

  get name(): string {
    return this.iface.name;
  }

  /** Send to the mDNS group on this interface, or to one address (legacy unicast answers). */
  send(packet: Packet, to?: { address: string; port: number }): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (err?: Error | null): void => {
        if (err) log.debug(`sending on ${this.name} failed: ${err.message}`);
        resolve();
      };
      const target = to ?? { address: MDNS_GROUP_V4, port: MDNS_PORT };
      if (packet.type === 'query') this.mdns.query({ ...packet, questions: packet.questions ?? [] }, target, done);
      else this.mdns.respond({ ...packet, answers: packet.answers ?? [] }, target, done);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.mdns.destroy(() => resolve()));
  }
}
