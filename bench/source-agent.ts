/**
 * A source agent in its own process for benchmarks: serves one folder
 * ("bench") with the real scanner behind its manifests. Usage:
 * node source-agent.js SPEC.json, SPEC = { certPem, keyPem, deviceId, root,
 * trust: [deviceId], cacheDir }. Prints `port=N` once listening.
 */
import { readFileSync } from 'node:fs';
import { startAgentServer } from '../src/peer/index.js';
import { readIgnoreRules, scanFolder } from '../src/scan/index.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  certPem: string;
  keyPem: string;
  deviceId: string;
  root: string;
  trust: string[];
  cacheDir: string;
};
const server = await startAgentServer({
  identity: { certPem: spec.certPem, keyPem: spec.keyPem, deviceId: spec.deviceId },
  host: '127.0.0.1',
  port: 0,
  directory: {
    agentName: () => 'bench-source',
    trusted: (id) => (spec.trust.includes(id) ? { deviceId: id } : undefined),
    folders: () => [{ id: 'bench', path: spec.root, role: 'source', shareWith: spec.trust }],
  },
  manifestSource: async (folder, signal) => ({
    ignoreRules: (await readIgnoreRules(folder.path)).split('\n').filter((l) => l.trim() !== ''),
    entries: scanFolder(folder.path, { cacheDir: spec.cacheDir, signal }),
  }),
});
process.stdout.write(`port=${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
