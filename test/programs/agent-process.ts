/**
 * An agent in its own process, serving a generated manifest, for tests that
 * freeze it (SIGSTOP) or measure its memory. Configured by the JSON in
 * SYNKER_TEST_AGENT; reports {port} over IPC when listening, and answers a
 * 'stats' message with its peak memory since start.
 */
import { startAgentServer } from '../../src/peer/index.js';
import type { Identity } from '../../src/identity/identity.js';
import type { SessionTimeouts } from '../../src/peer/timeouts.js';
import { generateEntries } from '../harness/manifests.js';

export interface AgentProcessConfig {
  identity: Identity;
  trusted: string[];
  entries: number;
  padding?: number;
  /** After this many entries the manifest stops for ever (a scan stuck on a dead disk), the agent otherwise alive. */
  stallAfter?: number;
  timeouts?: Partial<SessionTimeouts>;
  /** Sample heap + buffers every 5 ms (costly: tests only); RSS is always sampled. */
  sampleHeap?: boolean;
}

export interface AgentProcessStats {
  /** heapUsed + arrayBuffers: JavaScript objects plus buffers waiting to be sent. */
  baselineBytes: number;
  peakBytes: number;
  peakRss: number;
  /** CPU time (user + system) since the agent started listening. */
  cpuSeconds: number;
}

const config = JSON.parse(process.env.SYNKER_TEST_AGENT!) as AgentProcessConfig;

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function* generated(): AsyncGenerator<import('../../src/manifest/entry.js').ManifestEntry> {
  let i = 0;
  for (const entry of generateEntries(config.entries, { padding: config.padding ?? 0 })) {
    // Let the event loop breathe like a real scan does.
    if (++i % 1000 === 0) await new Promise((r) => setImmediate(r));
    if (config.stallAfter !== undefined && i > config.stallAfter) await new Promise(() => undefined);
    yield entry;
  }
}

const server = await startAgentServer({
  identity: config.identity,
  host: '127.0.0.1',
  port: 0,
  directory: {
    agentName: () => 'child',
    trusted: (id) => (config.trusted.includes(id) ? { deviceId: id } : undefined),
    folders: () => [{ id: 'photos', path: '/nowhere', role: 'source', shareWith: config.trusted }],
  },
  manifestSource: async () => ({ ignoreRules: [], entries: generated() }),
  ...(config.timeouts ? { timeouts: config.timeouts } : {}),
});

global.gc?.();
const stats: AgentProcessStats = { baselineBytes: used(), peakBytes: 0, peakRss: 0, cpuSeconds: 0 };
const cpuStart = process.cpuUsage();
// Live memory, not garbage V8 has not collected yet: collect first (the child runs with --expose-gc).
if (config.sampleHeap) {
  setInterval(() => {
    global.gc?.();
    stats.peakBytes = Math.max(stats.peakBytes, used());
  }, 50).unref();
}
setInterval(() => (stats.peakRss = Math.max(stats.peakRss, process.memoryUsage.rss())), 200).unref();

process.on('message', (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage(cpuStart);
    process.send!({ ...stats, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  }
  if (message === 'stop') void server.close().then(() => process.exit(0));
});
process.send!({ port: server.port });
