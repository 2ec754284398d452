/**
 * The channel's own cost: as many bytes as the *photos* tree holds, sent
 * between two processes on loopback in sync-sized messages, with synker's
 * TLS and WebSocket settings, no disk and no hashing. A sync of large files
 * cannot be faster than this, whatever the rest of it does; the row for
 * TLS without WebSocket framing shows what the framing adds. Compare with
 * the sync suite's `rsync -a --fsync` time for *photos* (same bytes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { createIdentity, type Identity } from '../src/identity/identity.js';
import { wssClientOptions } from '../src/peer/connect.js';
import { TLS_SETTINGS } from '../src/identity/tls.js';
import { LIMITS } from '../src/protocol/limits.js';
import { LAUNCHER_NODE_ARGS } from './launcher-args.js';

const RUNS = Number(process.env.SYNKER_BENCH_RUNS ?? 3);
/** The *photos* tree: 1,000 files of 2 MiB. */
const TOTAL = 1000 * 2 * 1024 * 1024;
const CHUNK = LIMITS.fileDataBytes;
const SENDER = fileURLToPath(new URL('./transport-sender.js', import.meta.url));

type Mode = 'wss' | 'tls';

interface Run {
  seconds: number;
  receiverCpu: number;
  senderCpu: number;
}

function median(runs: Run[]): Run {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

/** Receives TOTAL bytes from a fresh sender process; resolves when the last byte is in. */
function receive(mode: Mode, port: number, identity: Identity): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const count = (bytes: number, close: () => void): void => {
      received += bytes;
      if (received >= TOTAL) {
        close();
        resolve();
      }
    };
    if (mode === 'wss') {
      const ws = new WebSocket(`wss://127.0.0.1:${port}/`, wssClientOptions(identity));
      ws.on('message', (data: Buffer) => count(data.length, () => ws.terminate()));
      ws.on('error', reject);
    } else {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        cert: identity.certPem,
        key: identity.keyPem,
        ...TLS_SETTINGS,
        rejectUnauthorized: false,
      });
      socket.on('data', (data: Buffer) => count(data.length, () => socket.destroy()));
      socket.on('error', reject);
    }
  });
}

async function measureOnce(mode: Mode, identity: Identity): Promise<Run> {
  const child: ChildProcess = fork(SENDER, [mode, String(TOTAL), String(CHUNK)], {
    execArgv: [...LAUNCHER_NODE_ARGS],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    // One listener for both reports: the sender may finish writing before the last bytes are read.
    let portReported!: (port: number) => void;
    let cpuReported!: (seconds: number) => void;
    const port = new Promise<number>((resolve) => (portReported = resolve));
    const senderCpu = new Promise<number>((resolve) => (cpuReported = resolve));
    child.on('message', (report: { port?: number; cpuSeconds?: number }) => {
      if (report.port !== undefined) portReported(report.port);
      if (report.cpuSeconds !== undefined) cpuReported(report.cpuSeconds);
    });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`the transport benchmark's sender exited early (${String(code)})`);
    });
    child.send(identity);
    const listening = await Promise.race([port, exited]);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.race([receive(mode, listening, identity), exited]);
    const seconds = (performance.now() - start) / 1000;
    const receiverCpu = cpuSince(cpu);
    return { seconds, receiverCpu, senderCpu: await Promise.race([senderCpu, exited]) };
  } finally {
    child.kill();
  }
}

export async function run(): Promise<void> {
  const identity = await createIdentity('bench-transport');
  const mb = TOTAL / 1e6;
  process.stdout.write(
    `the channel alone: ${mb.toFixed(0)} MB (the photos tree's size) in ${CHUNK / 1024} KiB messages between two processes on 127.0.0.1, ` +
      `no disk, no hashing; ${os.cpus().length} cores; median of ${RUNS}\n`,
  );
  for (const [mode, label] of [
    ['wss', "wss with synker's settings (what sync uses)"],
    ['tls', 'TLS 1.3 without WebSocket framing'],
  ] as const) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measureOnce(mode, identity));
    const m = median(runs);
    process.stdout.write(
      `  ${label.padEnd(46)} ${m.seconds.toFixed(2)} s (${(mb / m.seconds).toFixed(0)} MB/s)  CPU: receiver ${m.receiverCpu.toFixed(2)} s, sender ${m.senderCpu.toFixed(2)} s\n`,
    );
  }
}
