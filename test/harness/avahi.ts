/**
 * A private Avahi (an independent mDNS/DNS-SD implementation) inside a test
 * namespace: its own D-Bus system bus (a permissive config in a temp dir)
 * and avahi-daemon under `unshare -m` with a tmpfs on /run, so neither its
 * pid file nor its socket touch the machine's. Restricted to one interface.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor, type Netns } from './netns.js';

export interface Avahi {
  /** Environment for avahi-browse / avahi-publish (points at the private bus). */
  env: NodeJS.ProcessEnv;
}

/** Anything with after(): a TestContext, or a benchmark's own cleanup list. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export async function startAvahi(t: Cleanup, ns: Netns, ifname: string): Promise<Avahi> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-avahi-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const busSocket = path.join(dir, 'bus');
  await writeFile(
    path.join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${busSocket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
  </policy>
</busconfig>
`,
  );
  await writeFile(
    path.join(dir, 'avahi-daemon.conf'),
    `[server]
host-name=avahi-${path
      .basename(dir)
      .slice(-6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}
use-ipv4=yes
use-ipv6=no
allow-interfaces=${ifname}
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
[rlimits]
`,
  );
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${busSocket}` };
  const bus = ns.spawn('dbus-daemon', [`--config-file=${path.join(dir, 'bus.conf')}`, '--nofork', '--nopidfile'], { env });
  let busErr = '';
  bus.stderr?.on('data', (d: Buffer) => (busErr += d.toString()));
  await waitFor(`the private D-Bus (${busErr})`, async () => ((await exists(busSocket)) ? true : undefined), 20_000);
  const daemon = ns.spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon && exec avahi-daemon -f ${path.join(dir, 'avahi-daemon.conf')} --no-drop-root --no-chroot --no-rlimits`,
    ],
    { env },
  );
  let log = '';
  daemon.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  daemon.once('exit', (code) => (log += `\n[avahi-daemon exited with ${code}]`));
  await waitFor(
    `avahi-daemon to start (log so far: ${log.slice(-2000)})`,
    () => (/Server startup complete/.test(log) ? true : /exited with/.test(log) ? Promise.reject(new Error(log)) : undefined),
    30_000,
  );
  return { env };
}

async function exists(file: string): Promise<boolean> {
  try {
    await import('node:fs/promises').then((fs) => fs.access(file));
    return true;
  } catch {
    return false;
  }
}
