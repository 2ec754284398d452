/**
 * A throwaway rsync daemon on 127.0.0.1 for benchmarks: what a user would
 * run instead of synker (rsync over its own protocol, no ssh in between).
 * One writable module per call to `module()`; stops with `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RsyncDaemon {
  port: number;
  /** rsync URL of a module serving `dir` read-write. */
  url(moduleName: string): string;
  stop(): Promise<void>;
}

export function rsyncAvailable(): boolean {
  return spawnSync('rsync', ['--version']).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a daemon exporting each `modules[name] = dir` read-write. */
export async function startRsyncDaemon(modules: Record<string, string>): Promise<RsyncDaemon> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-rsyncd-'));
  const port = await freePort();
  const conf = [
    `pid file = ${path.join(dir, 'rsyncd.pid')}`,
    `log file = ${path.join(dir, 'rsyncd.log')}`,
    'use chroot = no',
    'uid = root',
    'gid = root',
    ...Object.entries(modules).flatMap(([name, p]) => [`[${name}]`, `  path = ${p}`, '  read only = no']),
  ].join('\n');
  await writeFile(path.join(dir, 'rsyncd.conf'), `${conf}\n`);
  const child: ChildProcess = spawn(
    'rsync',
    ['--daemon', '--no-detach', `--config=${path.join(dir, 'rsyncd.conf')}`, '--address=127.0.0.1', `--port=${port}`],
    { stdio: 'ignore' },
  );
  // Ready when the port accepts connections.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100) throw new Error('rsync daemon did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    url: (name) => `rsync://127.0.0.1:${port}/${name}/`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
