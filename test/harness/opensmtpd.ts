/**
 * A real MTA for integration tests: OpenSMTPD (Debian `opensmtpd`) in the
 * foreground on 127.0.0.1, delivering every recipient into one maildir as
 * `nobody`. It runs in its own mount namespace (`unshare -m`) with a private
 * tmpfs on /var/spool (its queue) and an /etc/resolv.conf that points at
 * loopback, so it never touches the machine's spool or asks the real
 * resolver anything. Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';

export function opensmtpdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'OpenSMTPD test runs on Linux only';
  if (process.getuid?.() !== 0) return 'needs root (unshare -m and a private /var/spool for OpenSMTPD); run as root or in CI';
  return undefined;
}

export class OpenSmtpd {
  private child: ChildProcess | undefined;
  private log = '';
  readonly maildir: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.maildir = path.join(dir, 'maildir');
  }

  async start(): Promise<void> {
    const which = spawnSync('sh', ['-c', 'command -v smtpd'], { encoding: 'utf8' });
    if (which.status !== 0) throw new Error('smtpd not found: apt-get install --no-install-recommends opensmtpd (see .ci/run)');
    await mkdir(path.join(this.maildir, 'new'), { recursive: true });
    await chmod(this.dir, 0o755);
    // Delivery runs as nobody: it must be able to write the maildir.
    await chmod(this.maildir, 0o777);
    await chmod(path.join(this.maildir, 'new'), 0o777);
    const vusers = path.join(this.dir, 'vusers');
    await writeFile(vusers, '@ nobody\n');
    const conf = path.join(this.dir, 'smtpd.conf');
    await writeFile(
      conf,
      [
        `table vusers file:${vusers}`,
        `listen on 127.0.0.1 port ${this.port} hostname mx.test`,
        `action "deliver" maildir "${this.maildir}" user nobody virtual <vusers>`,
        'match from any for any action "deliver"',
        '',
      ].join('\n'),
    );
    const resolv = path.join(this.dir, 'resolv.conf');
    await writeFile(resolv, 'nameserver 127.0.0.1\n');
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /var/spool',
      `mount --bind ${resolv} /etc/resolv.conf`,
      `exec smtpd -d -f ${conf}`,
    ].join('\n');
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await this.listening())) {
      if (child.exitCode !== null) throw new Error(`smtpd exited (${child.exitCode}): ${this.log}`);
      if (Date.now() > deadline) throw new Error(`smtpd did not start listening: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Delivered messages (one file per recipient), waiting up to `timeoutMs` for `count` of them. */
  async delivered(count: number, timeoutMs = 10_000): Promise<Buffer[]> {
    const dir = path.join(this.maildir, 'new');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const names = (await readdir(dir)).sort();
      if (names.length >= count || Date.now() > deadline) return Promise.all(names.map((n) => readFile(path.join(dir, n))));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get output(): string {
    return this.log;
  }
}
