/**
 * The import rule of docs/architecture.md, enforced (`npm run lint`, run by CI).
 *
 * LAYERS is the data path from the floor up. A folder of src/ may import its
 * own files and the folders listed BEFORE it, never one listed after it: an
 * import up the list is an arrow back up the data path and fails the lint.
 * This list is the one place the order is written; the architecture page
 * explains it.
 */
const LAYERS = [
  'base', // errors, logging, durations, version, atomic writes, mode bits: used by all
  'manifest', // entry shape and order
  'dirs', // config and data directories
  'state', // LMDB stores and cross-process locks
  'identity', // this device's key and certificate, device IDs, TLS pinning
  'config', // the config file, parsed once into typed settings (smtp, schedule, ...)
  'scan', // walk + worker-pool SHA-256 + hash cache -> sorted manifest stream
  'protocol', // message definitions, one validating decoder, limits
  'transfer', // reading and serving files by manifest path, safely
  'peer', // wss sessions between agents
  'discovery', // mDNS + static peers
  'diff', // merge-join diff of two manifests
  'report', // one verdict model; terminal and JSON renderers
  'mail', // e-mail rendering, SMTP, the outbox
  'check', // the check job
  'sync', // sync, restore, versions
  'schedule', // scheduled checks, staleness, notices
  'control', // the local control socket
  'web', // the local status page and JSON API
  'agent', // the composition root of the long-running agent
  'service', // installing the agent as a login service
  'init', // first-run set-up
  'doctor', // the set-up diagnosis
  'demo', // the demo on one machine
  'cli', // commander commands: the entry point, wires everything
];

const folder = (name) => `^src/${name}/`;

module.exports = {
  forbidden: [
    ...LAYERS.map((name, i) => ({
      name: `no-import-up-from-${name}`,
      comment: `src/${name} may import only ${i === 0 ? 'itself' : LAYERS.slice(0, i).join(', ')} (docs/architecture.md)`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: `^src/(${LAYERS.slice(i + 1).join('|') || '$^'})/` },
    })),
    {
      name: 'every-folder-has-a-layer',
      comment: 'a new folder of src/ needs its place in LAYERS (.dependency-cruiser.cjs) and docs/architecture.md',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/` },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'no cycles, inside a folder either',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-tests',
      comment: 'the product never imports test or benchmark code',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};

// For test/unit/architecture.test.ts (folder READMEs and docs/architecture.md
// follow this order). Not enumerable: dependency-cruiser accepts no extra keys.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
