/**
 * Can this machine hear *other hosts'* mDNS traffic on each interface? Our
 * own queries always come back through the kernel's multicast loopback, so
 * hearing them proves nothing about the network. On each up IPv4 interface
 * we join 224.0.0.251:5353, send standard DNS-SD queries (for all services,
 * and for `_synker._tcp`) out of that interface, and listen: any mDNS packet
 * whose source is another host on that interface's subnet — an answer from a
 * phone, printer, TV, another synker agent, or a query of its own — proves
 * multicast from other hosts arrives. Hearing only ourselves points at AP
 * client isolation, a firewall on UDP 5353, or an empty network.
 */
import os from 'node:os';
import makeMdns from 'multicast-dns';
import { fail, ok, skip, warn, type Finding } from './finding.js';
import { formatDuration } from '../base/units.js';

const CHECK = 'multicast';

export interface InterfaceResult {
  name: string;
  address: string;
  /** Our own query came back (sending and receiving on the socket work). */
  heardSelf: boolean;
  /** Other hosts heard on this interface's subnet. */
  others: string[];
  error?: string;
}

interface Ipv4Interface {
  name: string;
  address: string;
  netmask: string;
}

export function multicastInterfaces(only?: string[]): Ipv4Interface[] {
  const result: Ipv4Interface[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (only && only.length > 0 && !only.includes(name)) continue;
    const v4 = (addrs ?? []).find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) result.push({ name, address: v4.address, netmask: v4.netmask });
  }
  return result;
}

export async function listenForOtherHosts(listenMs: number, only?: string[]): Promise<InterfaceResult[]> {
  const interfaces = multicastInterfaces(only);
  const ownAddresses = new Set(
    Object.values(os.networkInterfaces())
      .flat()
      .map((a) => a?.address)
      .filter((a): a is string => a !== undefined),
  );
  const results = interfaces.map(
    (iface) => ({ name: iface.name, address: iface.address, heardSelf: false, others: [] as string[] }) as InterfaceResult,
  );
  const sockets = interfaces.map((iface, i) => {
    const result = results[i]!;
    // bind 0.0.0.0 and pick the interface explicitly: multicast-dns alone sends on one OS-chosen interface.
    const mdns = makeMdns({ interface: iface.address, bind: '0.0.0.0', reuseAddr: true, loopback: true });
    mdns.on('error', (err: Error) => (result.error = err.message));
    mdns.on('warning', () => {});
    mdns.on('packet', (_packet: unknown, rinfo: { address: string }) => {
      // With IP_MULTICAST_ALL a socket also gets other interfaces' packets: attribute by subnet.
      const from = rinfo.address;
      if (from === iface.address) result.heardSelf = true;
      else if (!ownAddresses.has(from)) {
        for (const target of interfaces) {
          if (sameSubnet(from, target.address, target.netmask)) {
            const r = results[interfaces.indexOf(target)]!;
            if (!r.others.includes(from)) r.others.push(from);
          }
        }
      }
    });
    mdns.on('ready', () => {
      mdns.query(
        {
          questions: [
            { name: '_services._dns-sd._udp.local', type: 'PTR' },
            { name: '_synker._tcp.local', type: 'PTR' },
          ],
        },
        (err?: Error | null) => {
          if (err) result.error = err.message;
        },
      );
    });
    return mdns;
  });
  await new Promise((resolve) => setTimeout(resolve, listenMs));
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.destroy(() => resolve()))));
  return results;
}

export async function checkMulticast(listenMs: number, only?: string[]): Promise<Finding[]> {
  // Loopback can carry announcements between agents on this machine, but no other host is ever heard on it.
  const loopbacks = (only ?? []).filter((name) => (os.networkInterfaces()[name] ?? []).some((a) => a.internal));
  const others = only === undefined ? undefined : only.filter((name) => !loopbacks.includes(name));
  const onLoopback = loopbacks.map((name) =>
    skip(
      CHECK,
      `${name} is the loopback interface: agents on this machine can find each other there, but no other host can be heard on it`,
    ),
  );
  if (others !== undefined && others.length === 0 && onLoopback.length > 0) return onLoopback;
  const results = await listenForOtherHosts(listenMs, others);
  if (results.length === 0) {
    return [
      fail(
        CHECK,
        others && others.length > 0
          ? `no up IPv4 interface named ${others.join(', ')}`
          : 'no network interface with an IPv4 address is up (only loopback)',
        'Connect to the network the other machine is on; or use `--peer host:port` where discovery cannot work.',
      ),
    ];
  }
  return [...onLoopback, ...multicastFindings(results, listenMs)];
}

/**
 * What the operating system itself may be doing to multicast, for the hint of
 * a failed or silent interface: macOS 15 and later give a program mDNS only
 * once the user allows it "Local Network" access (sends then fail with
 * EHOSTUNREACH, or nothing is heard); Windows Defender Firewall drops inbound
 * UDP 5353 for node.exe until it is allowed, often on "Public" networks.
 */
export function multicastPlatformHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') {
    return ' On macOS 15 or later, allow Local Network access: System Settings > Privacy & Security > Local Network, for the terminal app (or node) that runs synker.';
  }
  if (platform === 'win32') {
    return ' On Windows, allow node.exe through Windows Defender Firewall (private networks), and make sure this network is set to Private, not Public.';
  }
  return '';
}

/** The findings for what each interface heard (pure: tested with made-up results). */
export function multicastFindings(results: InterfaceResult[], listenMs: number, platform: NodeJS.Platform = process.platform): Finding[] {
  const seconds = formatDuration(listenMs);
  const systemHint = multicastPlatformHint(platform);
  return results.map((r) => {
    const where = `${r.name} (${r.address})`;
    if (r.error) {
      // macOS answers a program without Local Network access with EHOSTUNREACH on every send.
      const hint =
        platform === 'darwin' && r.error.includes('EHOSTUNREACH')
          ? `macOS refused the multicast send.${systemHint}`
          : `Another program may hold UDP 5353 exclusively, or the interface went down; run doctor again.${systemHint}`;
      return fail(CHECK, `${where}: cannot use mDNS: ${r.error}`, hint.trim());
    }
    if (r.others.length > 0) {
      const list = r.others.slice(0, 3).join(', ') + (r.others.length > 3 ? ` and ${r.others.length - 3} more` : '');
      return ok(CHECK, `${where}: hears other hosts' mDNS traffic (${list})`);
    }
    if (!r.heardSelf) {
      return fail(
        CHECK,
        `${where}: our own mDNS query did not even come back: multicast does not work on this interface`,
        `Check that a multicast route exists (\`ip route get 224.0.0.251\`) and that no firewall drops UDP 5353; otherwise use \`--peer host:port\`.${systemHint}`,
      );
    }
    return warn(
      CHECK,
      `${where}: heard only our own packets in ${seconds}, nothing from any other host`,
      `Start synker (or any mDNS device) on another machine and re-run; if still silent: Wi-Fi client isolation or a firewall dropping UDP 5353 — use \`--peer host:port\`.${systemHint}`,
    );
  });
}

function sameSubnet(a: string, b: string, netmask: string): boolean {
  const [x, y, m] = [toInt(a), toInt(b), toInt(netmask)];
  return x !== undefined && y !== undefined && m !== undefined && (x & m) === (y & m);
}

function toInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
