/**
 * A one-shot mDNS resolver (RFC 6762 §6.7), like `dig -p 5353 @224.0.0.251
 * NAME PTR`: sends one query from an ephemeral port out of the interface
 * with address <ipv4>, optionally from another local address <source>, and
 * prints one JSON line per reply received within 2 s:
 * `{"from": "10.0.0.1", "instances": ["laptop (ABCDEFG)"], "ipv4": ["10.0.0.1"]}`.
 * Run inside a test-made network namespace:
 *   node mdns-query.js <ipv4 of the interface> <name> [<source address>]
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const [iface, name, source] = process.argv.slice(2);
if (!iface || !name) throw new Error('usage: mdns-query.js <ipv4 of the interface> <name> [<source address>]');
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  const packet = dnsPacket.decode(msg);
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])] as Array<{ type: string; data?: unknown }>;
  const data = (type: string): string[] => records.flatMap((r) => (r.type === type ? [String(r.data)] : []));
  const instances = data('PTR').map((fqdn) => fqdn.replace(/\._synker\._tcp\.local$/i, ''));
  process.stdout.write(`${JSON.stringify({ from: rinfo.address, instances, ipv4: data('A') })}\n`);
});
socket.bind(0, source, () => {
  socket.setMulticastInterface(iface);
  socket.send(dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name, type: 'PTR' }] }), 5353, '224.0.0.251');
  setTimeout(() => socket.close(), 2000);
});
