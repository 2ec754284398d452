/**
 * A source agent in its own process, serving one real folder ("photos")
 * from a test-made manifest of that folder: tests can SIGKILL it mid-transfer
 * like a machine losing power. Usage: node file-agent.js SPEC.json, where
 * SPEC = { certPem, keyPem, deviceId, root, trust: [deviceId], port? }.
 * Prints `port=N` on stdout once listening; logs to stderr.
 */
import { readFileSync } from 'node:fs';
import { startAgentServer } from '../../src/peer/index.js';
import { listTree } from '../harness/tree.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  certPem: string;
  keyPem: string;
  deviceId: string;
  root: string;
  trust: string[];
  port?: number;
};
const server = await startAgentServer({
  identity: { certPem: spec.certPem, keyPem: spec.keyPem, deviceId: spec.deviceId },
  host: '127.0.0.1',
  port: spec.port ?? 0,
  directory: {
    agentName: () => 'file-agent',
    trusted: (id) => (spec.trust.includes(id) ? { deviceId: id } : undefined),
    folders: () => [{ id: 'photos', path: spec.root, role: 'source', shareWith: spec.trust }],
  },
  manifestSource: async () => ({
    ignoreRules: [],
    entries: (async function* () {
      yield* listTree(spec.root);
    })(),
  }),
});
process.stdout.write(`port=${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
