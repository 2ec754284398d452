/**
 * Which network interfaces discovery runs on: every interface that is up,
 * multicast-capable, not loopback and has an IPv4 address (mDNS is sent over
 * IPv4; the interface's IPv6 addresses are announced too). `--interface`
 * restricts the set (and may name `lo` for a loopback-only setup).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface InterfaceAddress {
  address: string;
  family: 4 | 6;
  /** Prefix length (from the netmask). */
  prefix: number;
  /** IPv6 scope: non-zero for link-local addresses. */
  scopeId?: number;
}

export interface NetInterface {
  name: string;
  /** The IPv4 address mDNS is sent from on this interface. */
  primary: string;
  addresses: InterfaceAddress[];
  loopback: boolean;
}

export type InterfaceLister = () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const IFF_MULTICAST = 0x1000;

/** Linux tells whether an interface can multicast; elsewhere assume it can. */
function multicastCapable(name: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return (parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16) & IFF_MULTICAST) !== 0;
  } catch {
    return true;
  }
}

export interface InterfaceFilter {
  /** Only these interface names (empty or undefined: all eligible). */
  only?: readonly string[];
}

/** The interfaces discovery should use right now, sorted by name. */
export function eligibleInterfaces(
  filter: InterfaceFilter = {},
  list: InterfaceLister = os.networkInterfaces,
  canMulticast = multicastCapable,
): NetInterface[] {
  const only = filter.only && filter.only.length > 0 ? new Set(filter.only) : undefined;
  const result: NetInterface[] = [];
  for (const [name, infos] of Object.entries(list())) {
    if (!infos || infos.length === 0) continue;
    if (only && !only.has(name)) continue;
    const loopback = infos.some((i) => i.internal);
    // Loopback only when asked for by name (tests, demos); it never reaches another machine.
    if (loopback && !only) continue;
    if (!loopback && !canMulticast(name)) continue;
    const addresses: InterfaceAddress[] = infos.map((i) => ({
      address: i.address,
      family: i.family === 'IPv6' || (i.family as unknown) === 6 ? 6 : 4,
      prefix: prefixLength(i.cidr, i.netmask),
      ...(i.family === 'IPv6' && i.scopeid ? { scopeId: i.scopeid } : {}),
    }));
    const primary = addresses.find((a) => a.family === 4);
    if (!primary) continue;
    result.push({ name, primary: primary.address, addresses, loopback });
  }
  return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function prefixLength(cidr: string | null, netmask: string): number {
  const fromCidr = cidr ? Number(cidr.split('/')[1]) : NaN;
  if (Number.isInteger(fromCidr)) return fromCidr;
  if (netmask.includes(':')) return netmask.split(':').reduce((n, part) => n + bitCount(parseInt(part || '0', 16)), 0);
  return netmask.split('.').reduce((n, part) => n + bitCount(Number(part)), 0);
}

function bitCount(n: number): number {
  let count = 0;
  for (let v = n; v; v &= v - 1) count++;
  return count;
}

/** A stable description of an interface's addresses, to notice changes. */
export function interfaceSignature(iface: NetInterface): string {
  return iface.addresses
    .map((a) => `${a.address}/${a.prefix}`)
    .sort()
    .join(',');
}

function ipv4ToInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** True when an IPv4 address lies in one of the interface's IPv4 subnets. */
export function onSubnet(iface: NetInterface, address: string): boolean {
  const target = ipv4ToInt(address);
  if (target === undefined) return false;
  return iface.addresses.some((a) => {
    if (a.family !== 4) return false;
    const own = ipv4ToInt(a.address)!;
    const size = 2 ** (32 - a.prefix);
    return Math.floor(own / size) === Math.floor(target / size);
  });
}

export function isIpv6LinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

export function isIpv4LinkLocal(address: string): boolean {
  return address.startsWith('169.254.');
}

export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
