/**
 * One-shot mDNS queries (RFC 6762 §6.7: from a port other than 5353, answered
 * by unicast) on a multi-homed host, between network namespaces this test
 * creates: a reply never carries the address of an interface the query did
 * not come in on. Skipped when not root.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startAdvertiser } from '../harness/advertiser-process.js';
import { netLab, netnsUnavailableReason, waitFor, type Netns } from '../harness/netns.js';

const skip = netnsUnavailableReason();
const QUERY = fileURLToPath(new URL('../programs/mdns-query.js', import.meta.url));
const COUNTER = fileURLToPath(new URL('../programs/mdns-counter.js', import.meta.url));

interface Reply {
  from: string;
  instances: string[];
  ipv4: string[];
}

/** Every reply to one one-shot PTR query for `_synker._tcp.local` sent out of `iface`, optionally from `source`. */
async function oneShot(ns: Netns, iface: string, source?: string): Promise<Reply[]> {
  const r = await ns.run(process.execPath, [QUERY, iface, '_synker._tcp.local', ...(source ? [source] : [])], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Reply);
}

/** Replies naming `instance`, asked until one comes (a packet can be lost) — proves the query path works. */
function answered(ns: Netns, iface: string, instance: string): Promise<Reply> {
  return waitFor(
    `a one-shot reply naming ${instance}`,
    async () => (await oneShot(ns, iface)).find((r) => r.instances.includes(instance)),
    30_000,
    0,
  );
}

test('a one-shot query is answered only with the addresses of the interface it came in on, or not at all when that cannot be told', {
  skip,
}, async (t) => {
  const lab = await netLab(t);
  const home = await lab.namespace('multi');
  const left = await lab.namespace('left');
  const right = await lab.namespace('right');
  const l = await lab.link(home, left, { a: '10.94.1.1/24', b: '10.94.1.2/24' });
  const r = await lab.link(home, right, { a: '10.94.2.1/24', b: '10.94.2.2/24' });

  // Another responder on the host joins the mDNS group on the left link only (as Avahi or
  // systemd-resolved do): from then on every socket on port 5353 also gets what arrives there.
  const counter = home.spawn(process.execPath, [COUNTER, '10.94.1.1']);
  let ready = '';
  counter.stderr!.on('data', (d: Buffer) => (ready += d.toString()));
  await waitFor('the other responder to join the group', () => (ready.includes('ready') ? true : undefined), 20_000);

  // (a) An agent restricted to the right link: asked from the right, it answers with the right address;
  // asked from the left, it must not answer with the right address (it is not announced there at all).
  const restricted = await startAdvertiser(home, ['--name', 'restricted', '--interface', r.a]);
  const fromRight = await answered(right, '10.94.2.2', restricted.instance);
  assert.deepEqual(fromRight.ipv4, ['10.94.2.1']);
  for (let i = 0; i < 3; i++) {
    const fromLeft = (await oneShot(left, '10.94.1.2')).filter((reply) => reply.instances.includes(restricted.instance));
    assert.deepEqual(fromLeft, [], `answered a query from the left link, which --interface left out: ${JSON.stringify(fromLeft)}`);
  }
  await restricted.stop();

  // (b) An agent on both links, asked from the left by a sender on no local subnet (a router away):
  // it cannot tell the interface, so it does not answer — never with the right link's address.
  const both = await startAdvertiser(home, ['--name', 'both']);
  const fromLeft = await answered(left, '10.94.1.2', both.instance);
  assert.deepEqual(fromLeft.ipv4, ['10.94.1.1']);
  await left.ip('addr', 'add', '10.77.0.2/24', 'dev', l.b);
  await home.ip('route', 'add', '10.77.0.0/24', 'dev', l.a);
  for (let i = 0; i < 3; i++) {
    const offSubnet = (await oneShot(left, '10.94.1.2', '10.77.0.2')).filter((reply) => reply.instances.includes(both.instance));
    assert.ok(
      offSubnet.every((reply) => !reply.ipv4.includes('10.94.2.1')),
      `the right link's address leaked to the left: ${JSON.stringify(offSubnet)}`,
    );
    assert.deepEqual(offSubnet, []);
  }
  assert.match(both.stderr(), /not answering the one-shot query from 10\.77\.0\.2:\d+/);
});
