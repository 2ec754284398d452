/**
 * A minimal agent for discovery tests: serves one folder's manifest over the
 * real protocol server (port chosen by the OS) and advertises it over mDNS.
 *   node dist/test/programs/serve-folder.js --identity DIR --folder PATH --folder-id ID --trust DEVICEID [--name NAME]
 * Prints {deviceId, port} once listening and advertised; SIGTERM stops it.
 */
import { parseArgs } from 'node:util';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { startDiscovery } from '../../src/discovery/index.js';
import { startAgentServer } from '../../src/peer/index.js';
import { PROTOCOL_VERSION } from '../../src/protocol/index.js';
import { scanFolder } from '../../src/scan/index.js';

const { values } = parseArgs({
  options: {
    identity: { type: 'string' },
    folder: { type: 'string' },
    'folder-id': { type: 'string' },
    trust: { type: 'string' },
    name: { type: 'string', default: 'source' },
  },
});

const { identity } = await loadOrCreateIdentity(values.identity!);
const folder = { id: values['folder-id']!, path: values.folder!, role: 'source' as const, shareWith: [values.trust!] };
const server = await startAgentServer({
  identity,
  port: 0,
  directory: {
    agentName: () => values.name!,
    trusted: (deviceId) => (deviceId === values.trust ? { deviceId } : undefined),
    folders: () => [folder],
  },
  manifestSource: async (f, signal) => ({ ignoreRules: [], entries: scanFolder(f.path, { signal, cache: false }) }),
});
const discovery = await startDiscovery({
  advertise: { deviceId: identity.deviceId, name: values.name!, port: server.port, protocolVersion: PROTOCOL_VERSION },
});
process.stdout.write(`${JSON.stringify({ deviceId: identity.deviceId, port: server.port })}\n`);
process.on('SIGTERM', () => {
  void Promise.all([discovery.stop(), server.close()]).then(() => process.exit(0));
});
