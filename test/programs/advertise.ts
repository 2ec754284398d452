/**
 * A process that advertises a synker service and does nothing else, for
 * discovery tests and benchmarks (the agent proper lives in src/cli).
 *   node dist/test/programs/advertise.js --name NAME --port PORT [--interface IF]... [--browse]
 * Prints one JSON line {deviceId, readyAt, instance, interfaces} once its links are up; on
 * SIGTERM sends goodbyes and exits; with --browse, prints each peer-table
 * change as a JSON line too.
 */
import { parseArgs } from 'node:util';
import { createIdentity } from '../../src/identity/identity.js';
import { startDiscovery, type PeerEntry, type SeenAddress } from '../../src/discovery/index.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'fixture' },
    port: { type: 'string', default: '22000' },
    interface: { type: 'string', multiple: true, default: [] },
    'poll-ms': { type: 'string' },
    'device-id': { type: 'string' },
    browse: { type: 'boolean', default: false },
  },
});

const deviceId = values['device-id'] ?? (await createIdentity()).deviceId;
const discovery = await startDiscovery({
  advertise: { deviceId, name: values.name!, port: Number(values.port), protocolVersion: 1 },
  browse: values.browse!,
  interfaces: values.interface!,
  ...(values['poll-ms'] ? { pollMs: Number(values['poll-ms']) } : {}),
});
const print = (o: unknown): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
print({ deviceId, readyAt: Date.now(), instance: discovery.advertiser!.instance, interfaces: discovery.links.list().map((l) => l.name) });
for (const event of ['added', 'updated', 'removed'] as const) {
  discovery.table.on(event, (e: PeerEntry) =>
    print({ event, deviceId: e.deviceId, name: e.name, addresses: e.addresses.map((a: SeenAddress) => a.address) }),
  );
}
const stop = async (): Promise<void> => {
  await discovery.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
