/**
 * Network-namespace lab for tests and benchmarks that need real network
 * traffic (mDNS multicast above all) without it ever reaching the machine's
 * real interfaces. A NetLab owns namespaces and veth links with names unique
 * to this process, tracks the processes it starts inside them, and tears all
 * of it down on dispose() — registered with t.after() by netLab(t), so it
 * runs even when the test fails. Needs root (CAP_NET_ADMIN) and iproute2.
 *
 *   const lab = await netLab(t);               // or: skip when not root
 *   const a = await lab.namespace('agent');    // only `lo`, up
 *   const b = await lab.namespace('cli');
 *   await lab.link(a, b, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
 *   const out = await b.run('node', ['bin/synker.js', 'peers']);
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the process after this long (default 60 s); the result then has signal set. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root (network namespaces): run the tests as root, as CI does';
  }
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return 'needs iproute2 (`ip`): apt-get install iproute2';
  return undefined;
}

/** True when `cmd` can be run (looked up on PATH). */
export function hasCommand(cmd: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0;
}

let counter = 0;

/** A short, process-unique tag: namespace and interface names are built from it. */
function nextTag(): string {
  counter += 1;
  return `${process.pid.toString(36)}${counter.toString(36)}${randomBytes(1).toString('hex')}`;
}

const NAME_PREFIX = 'synk';

export class Netns {
  constructor(
    readonly lab: NetLab,
    readonly name: string,
  ) {}

  /** `ip -n NAME ...`, throwing on failure. */
  async ip(...args: string[]): Promise<string> {
    return ipCommand(['-n', this.name, ...args]);
  }

  /** Start a process inside the namespace; the lab kills it (and its process group) on dispose. */
  spawn(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
      detached: true,
    });
    this.lab.track(child);
    return child;
  }

  /** Run a process inside the namespace to completion and collect its output. */
  run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    return collect(child, options.timeoutMs ?? 60_000);
  }

  /** IPv4/IPv6 addresses of an interface in this namespace (without prefix length). */
  async addresses(ifname: string): Promise<string[]> {
    const out = await this.ip('-j', 'addr', 'show', 'dev', ifname);
    const parsed = JSON.parse(out) as Array<{ addr_info: Array<{ local: string }> }>;
    return parsed.flatMap((l) => l.addr_info.map((a) => a.local));
  }
}

export interface LinkOptions {
  /** Address with prefix length for each end, e.g. '10.99.0.1/24'. Omit for an end without IPv4. */
  a?: string;
  b?: string;
  /** Extra addresses (IPv6 with prefix, more IPv4) for each end. */
  aExtra?: string[];
  bExtra?: string[];
  /**
   * Add the 224.0.0.0/4 route through this link in each namespace that has
   * none yet (default true): without it, multicast sent on the default
   * interface fails with ENETUNREACH (see docs/discovery.md).
   */
  multicastRoute?: boolean;
  /** Interface names (≤ 15 characters) when the test must know them in advance; see NetLab.linkNames(). */
  names?: Link;
}

export interface Link {
  /** Interface names: `a` lives in namespace a, `b` in namespace b. */
  a: string;
  b: string;
}

export class NetLab {
  readonly tag = nextTag();
  private readonly namespaces: Netns[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly routed = new Set<string>();
  private links = 0;
  private disposed = false;
  private readonly onExit = (): void => this.disposeNow();

  constructor() {
    // Even when a test process ends with work pending (or exits early), its namespaces go.
    process.on('exit', this.onExit);
  }

  /** A new namespace with `lo` up and nothing else. */
  async namespace(label: string): Promise<Netns> {
    const safe = label.replace(/[^a-z0-9]/gi, '').slice(0, 12);
    const name = `${NAME_PREFIX}-${process.pid}-${this.tag}-${this.namespaces.length}${safe ? `-${safe}` : ''}`;
    await ipCommand(['netns', 'add', name]);
    const ns = new Netns(this, name);
    this.namespaces.push(ns);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** Fresh, unique interface names for a link to be made later (e.g. to start a process restricted to it first). */
  linkNames(): Link {
    this.links += 1;
    // Interface names are limited to 15 characters.
    const base = `sk${this.tag}${this.links.toString(36)}`.slice(0, 13);
    return { a: `${base}a`, b: `${base}b` };
  }

  /** A veth pair between two namespaces, both ends up, addresses assigned. */
  async link(a: Netns, b: Netns, options: LinkOptions = {}): Promise<Link> {
    const link = options.names ?? this.linkNames();
    await ipCommand(['link', 'add', link.a, 'netns', a.name, 'type', 'veth', 'peer', 'name', link.b, 'netns', b.name]);
    for (const [ns, ifname, addr, extra] of [
      [a, link.a, options.a, options.aExtra],
      [b, link.b, options.b, options.bExtra],
    ] as const) {
      for (const address of [addr, ...(extra ?? [])]) {
        if (address !== undefined) await ns.ip('addr', 'add', address, 'dev', ifname, ...(address.includes(':') ? ['nodad'] : []));
      }
      await ns.ip('link', 'set', ifname, 'up');
      if (options.multicastRoute !== false && !this.routed.has(ns.name) && addr !== undefined) {
        await ns.ip('route', 'add', '224.0.0.0/4', 'dev', ifname);
        this.routed.add(ns.name);
      }
    }
    return link;
  }

  /** Register a process for teardown (Netns.spawn does this). */
  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Kill every process started in the lab, then delete its namespaces (and with them the veths). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    // Stopping politely first lets processes say goodbye and flush captures; bounded, so a stuck child cannot keep the namespaces.
    await Promise.race([Promise.all([...this.children].map((c) => stopProcess(c))), new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.disposeNow();
  }

  /** Synchronous teardown: SIGKILL whatever runs inside, delete the namespaces. Also runs on process exit. */
  disposeNow(): void {
    if (this.disposed) return;
    this.disposed = true;
    process.off('exit', this.onExit);
    for (const ns of this.namespaces.reverse()) {
      // Whatever is still running inside (a daemon that forked away) would keep the namespace alive.
      const pids = spawnSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns.name]);
    }
  }
}

/** A lab torn down when the test ends; call netnsUnavailableReason() first to skip. */
export async function netLab(t: TestContext): Promise<NetLab> {
  removeStaleNamespaces();
  const lab = new NetLab();
  t.after(() => lab.dispose());
  return lab;
}

/**
 * Delete namespaces left behind by a test process that was killed before
 * its cleanup ran (their names carry the creator's pid).
 */
export function removeStaleNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const match = new RegExp(`^(${NAME_PREFIX}-(\\d+)-\\S+)`).exec(line.trim());
    if (!match) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    spawnSync('ip', ['netns', 'del', match[1]!]);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ipCommand(args: string[]): Promise<string> {
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child, 20_000);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Wait for a process to end, collecting its output; kill it after timeoutMs. */
export function collect(child: ChildProcess, timeoutMs: number): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => void stopProcess(child), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** SIGTERM the process group, SIGKILL after 3 s; resolves when it has exited. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    };
    const timer = setTimeout(() => kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    kill('SIGTERM');
  });
}

/** Wait until `predicate` returns a value (not undefined), polling; throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  predicate: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
