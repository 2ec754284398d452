/**
 * LAN discovery, measured between network namespaces this benchmark creates
 * (nothing reaches the machine's own interfaces; skipped when not root):
 *  1. time from an agent's start to its appearance in `synker peers` running
 *     in another namespace (median of 10), and the other way round: from
 *     `synker peers` starting to the running agent appearing;
 *  2. idle multicast traffic per minute (tcpdump in the namespace) of a
 *     synker agent with one peer on the link, next to avahi-daemon
 *     publishing one service on an identical link — what a user would
 *     otherwise run for service discovery.
 * SYNKER_BENCH_IDLE_MINUTES (default 5) sets the idle capture length.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAdvertiser } from '../test/harness/advertiser-process.js';
import { startAvahi } from '../test/harness/avahi.js';
import { collect, NetLab, netnsUnavailableReason, removeStaleNamespaces, stopProcess, waitFor, type Netns } from '../test/harness/netns.js';
import { readPcap } from '../test/harness/pcap.js';
import { SYNKER_BIN } from '../test/harness/synker-bin.js';

const RUNS = 10;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

let home = '';

async function peersJson(ns: Netns, timeout: string): Promise<{ startedAt: number; firstSeen: Map<string, number> }> {
  const startedAt = Date.now();
  const child = ns.spawn(process.execPath, [SYNKER_BIN, 'peers', '--json', '--timeout', timeout], {
    env: { ...process.env, SYNKER_HOME: home },
  });
  const r = await collect(child, 60_000);
  if (!r.stdout) throw new Error(`synker peers printed nothing (exit ${r.code}): ${r.stderr}`);
  const json = JSON.parse(r.stdout) as { agents: Array<{ deviceId: string | null; firstSeen: string }> };
  return { startedAt, firstSeen: new Map(json.agents.map((a) => [a.deviceId ?? '', Date.parse(a.firstSeen)])) };
}

async function timeToAppear(lab: NetLab): Promise<{ agentFirst: number[]; readyFirst: number[]; peersFirst: number[] }> {
  const a = await lab.namespace('agent');
  const b = await lab.namespace('cli');
  await lab.link(a, b, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const agentFirst: number[] = [];
  const readyFirst: number[] = [];
  const peersFirst: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Agent starts while synker peers listens: spawn of the agent process to first answer seen.
    const listening = peersJson(b, '6s');
    await new Promise((r) => setTimeout(r, 1500));
    const spawnedAt = Date.now();
    const agent = await startAdvertiser(a, ['--name', `bench${i}`]);
    const { firstSeen } = await listening;
    const seen = firstSeen.get(agent.deviceId);
    if (seen === undefined) throw new Error(`run ${i}: synker peers did not list the agent`);
    agentFirst.push(seen - spawnedAt);
    readyFirst.push(seen - agent.readyAt);
    // synker peers starts while the agent runs: spawn of the CLI to the agent listed.
    const later = await peersJson(b, '2s');
    const seen2 = later.firstSeen.get(agent.deviceId);
    if (seen2 === undefined) throw new Error(`run ${i}: synker peers did not list the running agent`);
    peersFirst.push(seen2 - later.startedAt);
    await agent.stop();
  }
  return { agentFirst, readyFirst, peersFirst };
}

interface Traffic {
  perMinute: Array<{ packets: number; bytes: number }>;
}

async function capture(ns: Netns, ifname: string, file: string): Promise<() => Promise<void>> {
  const dump = ns.spawn('tcpdump', ['-i', ifname, '-U', '-n', '-w', file, 'udp', 'port', '5353']);
  let err = '';
  dump.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(`tcpdump on ${ifname}`, () => (/listening on/.test(err) ? true : undefined), 20_000);
  return () => stopProcess(dump);
}

async function perMinute(file: string, start: number, minutes: number, fromAddress: string): Promise<Traffic> {
  const packets = (await readPcap(file)).filter((p) => p.source === fromAddress);
  const perMinute = Array.from({ length: minutes }, (_, m) => {
    const inMinute = packets.filter((p) => p.time * 1000 >= start + m * 60_000 && p.time * 1000 < start + (m + 1) * 60_000);
    return { packets: inMinute.length, bytes: inMinute.reduce((n, p) => n + p.length, 0) };
  });
  return { perMinute };
}

async function idleTraffic(lab: NetLab, minutes: number, dir: string): Promise<{ synker: Traffic; avahi: Traffic }> {
  const cleanups: Array<() => unknown> = [];
  try {
    // synker: an agent in `idle`, another agent on the link (so refreshes happen, as on a real LAN).
    const idle = await lab.namespace('idle');
    const peer = await lab.namespace('peer');
    const l1 = await lab.link(idle, peer, { a: '10.98.0.1/24', b: '10.98.0.2/24' });
    // avahi-daemon publishing one service, with an avahi-daemon peer browsing on the link.
    const av = await lab.namespace('avahi');
    const avPeer = await lab.namespace('avpeer');
    const l2 = await lab.link(av, avPeer, { a: '10.97.0.1/24', b: '10.97.0.2/24' });
    const stops = [await capture(idle, l1.a, path.join(dir, 'synker.pcap')), await capture(av, l2.a, path.join(dir, 'avahi.pcap'))];
    const start = Date.now();
    const agent = await startAdvertiser(idle, ['--name', 'idle', '--browse']);
    const other = await startAdvertiser(peer, ['--name', 'peer', '--browse']);
    const registrar = { after: (fn: () => unknown) => cleanups.push(fn) };
    const avahi = await startAvahi(registrar, av, l2.a);
    const avahiPeer = await startAvahi(registrar, avPeer, l2.b);
    // A browser on the avahi link too, as the synker peer browses.
    avPeer.spawn('avahi-browse', ['-r', '_synker._tcp'], { env: avahiPeer.env });
    const publisher = av.spawn('avahi-publish', ['-s', 'idle', '_synker._tcp', '22000', 'id=x'], { env: avahi.env });
    await new Promise((r) => setTimeout(r, minutes * 60_000));
    await stopProcess(publisher);
    await agent.stop();
    await other.stop();
    for (const stop of stops) await stop();
    return {
      synker: await perMinute(path.join(dir, 'synker.pcap'), start, minutes, '10.98.0.1'),
      avahi: await perMinute(path.join(dir, 'avahi.pcap'), start, minutes, '10.97.0.1'),
    };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

export async function run(): Promise<void> {
  const reason = netnsUnavailableReason();
  if (reason) {
    process.stdout.write(`skipped: discovery benchmark ${reason}\n`);
    return;
  }
  removeStaleNamespaces();
  const minutes = Number(process.env.SYNKER_BENCH_IDLE_MINUTES ?? 5);
  const lab = new NetLab();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-bench-'));
  home = path.join(dir, 'home');
  try {
    process.stdout.write(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (${os.cpus().length} cores)\n`,
    );
    const { agentFirst, readyFirst, peersFirst } = await timeToAppear(lab);
    const fmt = (v: number[]): string => `median ${Math.round(median(v))} ms (min ${Math.min(...v)}, max ${Math.max(...v)}; n=${v.length})`;
    process.stdout.write(`agent start -> listed by synker peers (already listening):  ${fmt(agentFirst)}\n`);
    process.stdout.write(`  of which after the agent's sockets were up:              ${fmt(readyFirst)}\n`);
    process.stdout.write(`synker peers start -> running agent listed:                 ${fmt(peersFirst)}\n`);
    process.stdout.write(`  (each includes starting a Node.js process: ${process.version})\n`);
    const { synker, avahi } = await idleTraffic(lab, minutes, dir);
    process.stdout.write(`\nmulticast sent by one agent, one peer on the link (tcpdump), per minute since start:\n`);
    process.stdout.write(`minute  synker pkts  synker bytes  avahi-daemon pkts  avahi-daemon bytes\n`);
    synker.perMinute.forEach((s, m) => {
      const a = avahi.perMinute[m]!;
      process.stdout.write(
        `${String(m + 1).padStart(6)}  ${String(s.packets).padStart(11)}  ${String(s.bytes).padStart(12)}  ${String(a.packets).padStart(17)}  ${String(a.bytes).padStart(18)}\n`,
      );
    });
    const idle = synker.perMinute.slice(1);
    const idleAvahi = avahi.perMinute.slice(1);
    const avg = (xs: Array<{ packets: number; bytes: number }>, k: 'packets' | 'bytes'): number =>
      xs.reduce((n, x) => n + x[k], 0) / Math.max(1, xs.length);
    process.stdout.write(
      `idle (minutes 2-${minutes}): synker ${avg(idle, 'packets').toFixed(1)} packets/min, ${Math.round(avg(idle, 'bytes'))} bytes/min; ` +
        `avahi-daemon ${avg(idleAvahi, 'packets').toFixed(1)} packets/min, ${Math.round(avg(idleAvahi, 'bytes'))} bytes/min\n`,
    );
  } finally {
    await lab.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
