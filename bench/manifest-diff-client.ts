/**
 * Client half of the scale benchmark's synthetic run, in its own process:
 * streams the agent's generated manifest (SYNKER_BENCH_CLIENT) and diffs it,
 * as it arrives, against the same generated manifest with a few changes made
 * here (no files on disk, nothing held whole). Sends back the entries, the
 * differences found and expected, the time and its peak RSS.
 */
import { diffManifests } from '../src/diff/index.js';
import type { ManifestEntry } from '../src/manifest/entry.js';
import { connectToPeer } from '../src/peer/index.js';
import type { Identity } from '../src/identity/identity.js';
import { generateEntries } from '../test/harness/manifests.js';

const { port, identity, expectDeviceId, entries } = JSON.parse(process.env.SYNKER_BENCH_CLIENT!) as {
  port: number;
  identity: Identity;
  expectDeviceId: string;
  entries: number;
};

/** Every this many entries, a file of the backup's copy is changed (one in three) or dropped. */
const EVERY = 1_000_003;
let expected = 0;
/** Entries the generator makes unreadable (on both sides alike): each is listed as a difference too. */
let unreadable = 0;
let backupCount = 0;

async function* backupCopy(): AsyncGenerator<ManifestEntry> {
  let i = 0;
  for (const entry of generateEntries(entries)) {
    const n = i++;
    if (++backupCount % 1000 === 0) await new Promise((r) => setImmediate(r));
    if (entry.type === 'error') unreadable++;
    if (n % EVERY === 7 && entry.type === 'file') {
      expected++;
      if (Math.floor(n / EVERY) % 3 === 0) continue; // missing on the backup
      yield { ...entry, hash: 'f'.repeat(64) }; // content differs
      continue;
    }
    yield entry;
  }
}

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
const session = await connectToPeer({ host: '127.0.0.1', port, identity, expectDeviceId });
const started = performance.now();
const cpuStart = process.cpuUsage();
const manifest = session.requestManifest('photos');
let sourceCount = 0;
async function* counted(): AsyncGenerator<ManifestEntry> {
  for await (const entry of manifest) {
    sourceCount++;
    yield entry;
  }
}
const result = await diffManifests(counted(), backupCopy());
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
await session.close();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
process.send!({
  sourceCount,
  backupCount,
  differences: result.differences.length,
  expected,
  unreadable,
  seconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  peakRss,
});
process.disconnect();
