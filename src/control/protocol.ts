/**
 * The agent's local control socket: how `synker check` on this machine asks
 * the running agent to do the check. The agent's process is warm (its code
 * compiled, its scan thread started, its hash cache open), which a new CLI
 * process is not: a warm check of 100,000 files took 1.3-1.65 s there
 * against 1.9-2.6 s in a CLI process on the 2-core test machine.
 *
 * One request per connection, JSON on one line, carrying CONTROL_VERSION;
 * the agent answers per folder with a `report` line whose `differences` are
 * left empty, followed by `differences` lines of at most DIFFERENCES_PER_LINE
 * each (a report of 200,000 differences is ~46 MB of JSON: never one line,
 * never one string on either end), then `done`, or
 * with `refused` (the CLI then checks in its own process): another version,
 * or a field the agent does not know, is refused, never half-understood.
 * While the check runs, the agent sends `alive` every HEARTBEAT_MS: a CLI
 * that hears nothing for STALL_MS (a stuck or suspended agent) checks by
 * itself rather than wait for ever. The socket is a Unix domain socket in the data
 * directory, which only its owner can enter: whoever can reach it could
 * read the agent's state anyway.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { CheckReport } from '../report/model.js';

/** The request format this version writes and runs; an agent refuses any other (the CLI then checks by itself). */
export const CONTROL_VERSION = 4;

/** Differences per `differences` line after a report's head. */
export const DIFFERENCES_PER_LINE = 1000;

/** How often the agent says it is still at the check. */
export const HEARTBEAT_MS = 2_000;
/** Silence after which the CLI stops waiting for the agent (several heartbeats: a busy agent may be late). */
export const STALL_MS = 15_000;

/** What `synker check` hands the agent: its folder and flags, and the config file it read. */
export interface ControlCheckRequest {
  version: typeof CONTROL_VERSION;
  command: 'check';
  /** The config file the CLI uses: an agent serving another config refuses. */
  configPath: string;
  /** The folder ID, or null for every backup folder. */
  folder: string | null;
  /**
   * Record each run as a check by hand (schedule/record.ts: the verification, the folder's history and
   * last report), before the reports are sent: the CLI then records nothing itself. False for `--no-record`.
   */
  record: boolean;
  options: {
    peer?: string | undefined;
    verify: boolean;
    sizeOnly: boolean;
    timeoutMs: number;
    mtimeToleranceMs: number | 'auto';
    jobs?: number | undefined;
    /**
     * How the CLI was told to look for the source (--no-discovery, --interface): mDNS or not, on which
     * interfaces (none: all). Both absent when it was told nothing: the agent then looks the way it
     * was itself started to (its --no-discovery, its --interface), as its scheduled checks do.
     */
    mdns?: boolean | undefined;
    interfaces?: string[] | undefined;
  };
}

/** The check's own settings, as the CLI's flags give them (checkFolder's options). */
export type RequestedCheckOptions = Omit<ControlCheckRequest['options'], 'mdns' | 'interfaces'>;

export type ControlReply =
  | { report: CheckReport }
  | { differences: CheckReport['differences'] }
  | { done: true }
  | { alive: true }
  | { refused: { code: string; message: string } };

/** Unix socket paths longer than this fail to bind on Linux (108 with the NUL) and macOS (104). */
const MAX_SOCKET_PATH = 100;

/**
 * Where the agent of the data directory `dataDir` listens; undefined where a
 * Unix socket path would be too long. Windows has no Unix socket in a folder
 * its owner alone can enter: there it is a named pipe whose name is a hash of
 * the data directory (Node creates it with Windows' default pipe security:
 * full control for its creator, SYSTEM and Administrators, read-only for
 * others, who so cannot send a request).
 */
export function controlSocketPath(dataDir: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform === 'win32') {
    const digest = createHash('sha256').update(path.win32.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 32);
    return `\\\\.\\pipe\\synker-control-${digest}`;
  }
  const socket = path.join(dataDir, 'agent.sock');
  return Buffer.byteLength(socket) <= MAX_SOCKET_PATH ? socket : undefined;
}

/** A named pipe, not a file: nothing to chmod or remove. */
export function isNamedPipe(socketPath: string): boolean {
  return socketPath.startsWith('\\\\.\\pipe\\');
}
