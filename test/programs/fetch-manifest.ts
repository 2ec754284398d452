/**
 * Fetch a folder's manifest from a device known only by its device ID: no
 * address anywhere — discovery finds it.
 *   node dist/test/programs/fetch-manifest.js --identity DIR --device DEVICEID --folder-id ID [--locator]
 * Dials with dialDevice() (PeerFinder), or with --locator through
 * DiscoveryLocator as `synker check` does. Prints {via: {host, port, source},
 * entries: [{path, type, size, hash}]}.
 */
import { parseArgs } from 'node:util';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { PeerFinder, startDiscovery } from '../../src/discovery/index.js';
import { dialDevice } from '../harness/dial.js';
import { DiscoveryLocator } from '../../src/discovery/locator.js';
import { connectToPeer, type PeerSession } from '../../src/peer/index.js';

const { values } = parseArgs({
  options: {
    identity: { type: 'string' },
    device: { type: 'string' },
    'folder-id': { type: 'string' },
    locator: { type: 'boolean', default: false },
  },
});
const { identity } = await loadOrCreateIdentity(values.identity!);
const deviceId = values.device!;

async function viaFinder(): Promise<{ session: PeerSession; via: { host: string; port: number; source: string } }> {
  const discovery = await startDiscovery();
  try {
    const { session, candidate } = await dialDevice({ deviceId, identity, finder: new PeerFinder([discovery.candidates]), waitMs: 20_000 });
    return { session, via: { host: candidate.host, port: candidate.port, source: candidate.source } };
  } finally {
    await discovery.stop();
  }
}

async function viaLocator(): Promise<{ session: PeerSession; via: { host: string; port: number; source: string } }> {
  const locator = new DiscoveryLocator();
  try {
    for await (const address of locator.addresses(deviceId, { waitMs: 20_000 })) {
      const session = await connectToPeer({ host: address.host, port: address.port, identity, expectDeviceId: deviceId });
      return { session, via: { host: address.host, port: address.port, source: address.via } };
    }
    throw new Error('the locator found no address');
  } finally {
    await locator.close();
  }
}

const { session, via } = values.locator ? await viaLocator() : await viaFinder();
const entries = [];
for await (const e of session.requestManifest(values['folder-id']!))
  entries.push({ path: e.path, type: e.type, size: e.size, hash: e.hash });
await session.close();
process.stdout.write(`${JSON.stringify({ via, entries })}\n`);
