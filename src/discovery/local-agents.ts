/**
 * Agents on this machine: every running agent writes one small file (device
 * ID, name, address, port, process) into this user's runtime folder
 * (dirs/runtimeDir) and removes it when it stops. Another home of the same
 * user on the same machine (two SYNKER_HOMEs) finds it there at once, with
 * no network at all: mDNS needs an interface that can multicast, and
 * loopback is not searched unless named. Like every other address, an entry
 * is a hint: the connection pins the device ID, so a stale or forged file
 * can at worst point at the wrong port.
 *
 *   const registered = await registerLocalAgent({ deviceId, name, host, port, dataDir });
 *   ...
 *   await registered.remove();
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.js';
import { errnoCode, SynkerError } from '../base/errors.js';
import { runtimeDir } from '../dirs/dirs.js';
import { makePrivateDir } from '../state/lock.js';
import type { Candidate, CandidateSource } from './candidates.js';

export interface LocalAgent {
  deviceId: string;
  name: string;
  /** An address of this machine the agent accepts connections on (loopback unless it listens on one address only). */
  host: string;
  port: number;
  pid: number;
  /** Its home's data directory. */
  dataDir: string;
  /** ISO time it registered. */
  since: string;
}

export interface RegisteredAgent {
  readonly file: string;
  /** Remove the entry (the agent stops). */
  remove(): Promise<void>;
}

const FILE_PREFIX = 'agent-';
/** An entry is a few hundred bytes: anything bigger is not ours. */
const MAX_ENTRY_BYTES = 4096;

/** The address a local peer dials: loopback for an agent listening on every address, else the one it listens on. */
export function localDialAddress(listenHost: string): string {
  if (listenHost === '::' || listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  return listenHost;
}

/** Where the entry of the agent of `dataDir` is written in `dir`: one per home, so a restart replaces it. */
export function localAgentFile(dataDir: string, dir: string = runtimeDir()): string {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 20);
  return path.join(dir, `${FILE_PREFIX}${digest}.json`);
}

function privateDir(dir: string): void {
  if (!makePrivateDir(dir)) {
    throw new SynkerError('E_RUNTIME_DIR', `${dir} is not a private folder of this user, so agents cannot register there`, {
      hint: `Remove ${dir} (another user or program made it), or set XDG_RUNTIME_DIR (or TMPDIR) to a folder of your own.`,
    });
  }
}

/** Writes this agent's entry (owner-only). The home lock makes the agent the only writer of its file. */
export async function registerLocalAgent(entry: Omit<LocalAgent, 'pid' | 'since'>, dir: string = runtimeDir()): Promise<RegisteredAgent> {
  privateDir(dir);
  const file = localAgentFile(entry.dataDir, dir);
  const full: LocalAgent = { ...entry, dataDir: path.resolve(entry.dataDir), pid: process.pid, since: new Date().toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(full)}\n`, { mode: 0o600, makeDir: false });
  let removed: Promise<void> | undefined;
  return {
    file,
    remove() {
      removed ??= rm(file, { force: true });
      return removed;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return errnoCode(err) === 'EPERM';
  }
}

function parseEntry(text: string): LocalAgent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 1024;
  const int = (x: unknown, max: number): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x > 0 && x <= max;
  // An IP address only: a host name would be looked up in the DNS.
  if (!str(v.deviceId) || !/^[A-Z2-7]{56}$/.test(v.deviceId) || typeof v.name !== 'string' || !str(v.host) || isIP(v.host) === 0)
    return undefined;
  if (!int(v.port, 65535) || !int(v.pid, 2 ** 31) || !str(v.dataDir) || !str(v.since)) return undefined;
  return { deviceId: v.deviceId, name: v.name, host: v.host, port: v.port, pid: v.pid, dataDir: v.dataDir, since: v.since };
}

/**
 * The agents registered in `dir` whose process still runs (an agent killed
 * by SIGKILL leaves its file until its home's next agent replaces it).
 * A missing or unreadable folder is no agent.
 */
export function readLocalAgents(dir: string = runtimeDir()): LocalAgent[] {
  let names: string[];
  try {
    // A folder of that name made by another user (a shared temp dir) is not ours to believe.
    const st = lstatSync(dir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (!st.isDirectory() || (process.platform !== 'win32' && (st.uid !== uid || (st.mode & 0o022) !== 0))) return [];
    names = readdirSync(dir).filter((n) => n.startsWith(FILE_PREFIX) && n.endsWith('.json'));
  } catch {
    return [];
  }
  const agents: LocalAgent[] = [];
  for (const name of names.sort()) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    if (text.length > MAX_ENTRY_BYTES) continue;
    const entry = parseEntry(text);
    if (entry !== undefined && alive(entry.pid)) agents.push(entry);
  }
  return agents;
}

/** The local registry as a candidate source: read afresh at each ask (a directory of a few small files). */
export class LocalAgents implements CandidateSource {
  readonly name = 'local';

  constructor(private readonly dir: string = runtimeDir()) {}

  list(): LocalAgent[] {
    return readLocalAgents(this.dir);
  }

  candidates(deviceId: string): Candidate[] {
    return this.list()
      .filter((a) => a.deviceId === deviceId)
      .map((a) => ({
        host: a.host,
        port: a.port,
        family: a.host.includes(':') ? 6 : 4,
        interface: undefined,
        source: 'local',
        lastSeen: Date.parse(a.since),
      }));
  }
}
