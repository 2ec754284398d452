/**
 * A stand-in for "another host on the LAN" that speaks mDNS: answers DNS-SD
 * service enumeration queries on one interface, as a printer or phone does.
 * Run inside a test-made network namespace: node mdns-responder.js <ipv4>.
 */
import makeMdns from 'multicast-dns';

const address = process.argv[2];
if (!address) throw new Error('usage: mdns-responder.js <ipv4 of the interface>');
const mdns = makeMdns({ interface: address, bind: '0.0.0.0', loopback: false });
mdns.on('query', (query: { questions: Array<{ name: string }> }) => {
  if (query.questions.some((q) => q.name === '_services._dns-sd._udp.local')) {
    mdns.respond([{ name: '_services._dns-sd._udp.local', type: 'PTR', ttl: 4500, data: '_ipp._tcp.local' }]);
  }
});
mdns.on('ready', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => mdns.destroy(() => process.exit(0)));
