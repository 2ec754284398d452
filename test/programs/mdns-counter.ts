/**
 * Listens for mDNS packets on one interface and prints one line per packet
 * (`<source address> <query|response> <names>`): a test's view of "the LAN",
 * to prove that something announced nothing there. Prints `ready` on stderr
 * once listening; stops on SIGTERM. Usage:
 *   node mdns-counter.js <IPv4 address of the interface>
 */
import makeMdns from 'multicast-dns';

const address = process.argv[2];
if (!address) throw new Error('usage: mdns-counter.js <IPv4 address of the interface>');
const mdns = makeMdns({ interface: address, bind: '0.0.0.0', loopback: false });
mdns.on(
  'packet',
  (packet: { type: string; questions?: Array<{ name: string }>; answers?: Array<{ name: string }> }, rinfo: { address: string }) => {
    const names = [...(packet.questions ?? []), ...(packet.answers ?? [])].map((r) => r.name).join(',');
    process.stdout.write(`${rinfo.address} ${packet.type} ${names}\n`);
  },
);
mdns.on('ready', () => process.stderr.write('ready\n'));
process.on('SIGTERM', () => mdns.destroy(() => process.exit(0)));
