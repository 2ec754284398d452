/**
 * Read mDNS packets from a tcpdump capture (`tcpdump -w FILE`, classic pcap,
 * Ethernet link type): enough to check what went over a link in tests and
 * to count bytes in benchmarks.
 */
import { readFile } from 'node:fs/promises';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';

export interface CapturedPacket {
  /** Seconds since the epoch. */
  time: number;
  /** Bytes on the wire (Ethernet frame). */
  length: number;
  source: string;
  destination: string;
  /** The DNS message, when it decoded. */
  dns: DecodedPacket | undefined;
}

export async function readPcap(file: string): Promise<CapturedPacket[]> {
  const buf = await readFile(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file} is not a pcap file`);
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType} is not Ethernet`);
  const out: CapturedPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const time = u32(off) + u32(off + 4) / (nano ? 1e9 : 1e6);
    const caplen = u32(off + 8);
    const length = u32(off + 12);
    const frame = buf.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    const parsed = parseFrame(frame);
    if (parsed) out.push({ time, length, ...parsed });
  }
  return out;
}

function parseFrame(frame: Buffer): Omit<CapturedPacket, 'time' | 'length'> | undefined {
  if (frame.length < 14) return undefined;
  const etherType = frame.readUInt16BE(12);
  let udp: Buffer;
  let source: string;
  let destination: string;
  if (etherType === 0x0800) {
    const ihl = (frame[14]! & 0x0f) * 4;
    if (frame[14 + 9] !== 17) return undefined;
    source = [...frame.subarray(26, 30)].join('.');
    destination = [...frame.subarray(30, 34)].join('.');
    udp = frame.subarray(14 + ihl);
  } else if (etherType === 0x86dd) {
    if (frame[14 + 6] !== 17) return undefined;
    const hex = (b: Buffer): string => (b.toString('hex').match(/.{4}/g) ?? []).join(':');
    source = hex(frame.subarray(22, 38));
    destination = hex(frame.subarray(38, 54));
    udp = frame.subarray(54);
  } else return undefined;
  let dns: DecodedPacket | undefined;
  try {
    dns = dnsPacket.decode(udp.subarray(8)) as DecodedPacket;
  } catch {
    dns = undefined;
  }
  return { source, destination, dns };
}

/** Every A/AAAA address carried in a packet's answer and additional sections. */
export function announcedAddresses(p: CapturedPacket): string[] {
  const records = [...(p.dns?.answers ?? []), ...(p.dns?.additionals ?? [])];
  return records.filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => String((r as { data: unknown }).data));
}
