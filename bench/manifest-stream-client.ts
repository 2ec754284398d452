/**
 * Client half of the manifest-stream benchmark, in its own process: connects
 * to the agent given in SYNKER_BENCH_CLIENT, streams one manifest, and sends
 * back the count, the time and its peak RSS.
 */
import { connectToPeer } from '../src/peer/index.js';
import type { Identity } from '../src/identity/identity.js';

const { port, identity, expectDeviceId } = JSON.parse(process.env.SYNKER_BENCH_CLIENT!) as {
  port: number;
  identity: Identity;
  expectDeviceId: string;
};
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 200);
const session = await connectToPeer({ host: '127.0.0.1', port, identity, expectDeviceId });
const started = performance.now();
const cpuStart = process.cpuUsage();
let count = 0;
const manifest = session.requestManifest('photos');
for await (const _ of manifest) count++;
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const totals = await manifest.totals;
await session.close();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
process.send!({ count, seconds, cpuSeconds, peakRss, totalsCount: totals.count });
process.disconnect();
