/**
 * The agent's end of the control socket (protocol.ts): one check request per
 * connection, run by the agent, its reports sent back one line each. The
 * check stops when the client goes away.
 */
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { errnoCode, SynkerError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { CheckReport } from '../report/model.js';
import {
  CONTROL_VERSION,
  controlSocketPath,
  DIFFERENCES_PER_LINE,
  HEARTBEAT_MS,
  isNamedPipe,
  type ControlCheckRequest,
  type ControlReply,
} from './protocol.js';
import { makeDirs } from '../base/make-dirs.js';

/** Thrown by the check callback for a request this agent will not run (the client then checks by itself). */
export class ControlRefusal extends SynkerError {}

export interface ControlServerOptions {
  dataDir: string;
  logger: Logger;
  check: (request: ControlCheckRequest, signal: AbortSignal) => Promise<CheckReport[]>;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** How long the agent's stop waits for running checks to wind down. */
const STOP_WAIT_MS = 10_000;

/** A request line is a folder ID and a few flags: anything longer is not from synker. */
const MAX_REQUEST_BYTES = 64 * 1024;

/** Listens on the data directory's control socket; undefined where there is none, or another agent holds it. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer | undefined> {
  const socketPath = controlSocketPath(options.dataDir);
  if (socketPath === undefined) return undefined;
  await makeDirs(options.dataDir, 0o700);
  if (await answers(socketPath)) {
    options.logger.warn(`another synker agent answers on ${socketPath}: \`synker check\` here will ask that one`);
    return undefined;
  }
  const running = new Map<AbortController, Promise<void>>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, options, running);
  });
  try {
    // Left by an agent that did not stop cleanly (a named pipe goes with its process).
    if (!isNamedPipe(socketPath)) await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket file is made by the bind inside listen(): owner-only from its first moment.
      const umask = process.umask(0o177);
      try {
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    if (!isNamedPipe(socketPath)) await chmod(socketPath, 0o600);
  } catch (err) {
    // Not fatal: without the socket, synker check here checks in its own process.
    options.logger.warn(
      `cannot open the control socket ${socketPath} (${errnoCode(err) ?? String(err)}): synker check on this machine will check by itself`,
    );
    server.close();
    return undefined;
  }
  server.on('error', (err) => options.logger.warn(`control socket ${socketPath}: ${err.message}`));
  return {
    path: socketPath,
    async close() {
      // The checks stop first and are waited for: they hold folder locks and write the agent's state,
      // which the agent closes next; their clients hear `refused` and check by themselves.
      for (const abort of running.keys()) abort.abort(new AgentStoppingError());
      // Bounded: a check that does not wind down must not keep the agent from stopping.
      await Promise.race([Promise.allSettled(running.values()), new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A client that connected and said nothing must not hold the agent's stop.
      for (const socket of sockets) socket.destroy();
      await closed;
      if (!isNamedPipe(socketPath)) await rm(socketPath, { force: true });
    },
  };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Why a running check was stopped when the agent stops. */
class AgentStoppingError extends SynkerError {
  constructor() {
    super('E_CONTROL_STOPPING', 'the agent is stopping');
  }
}

function serve(socket: net.Socket, options: ControlServerOptions, running: Map<AbortController, Promise<void>>): void {
  const abort = new AbortController();
  const reply = (message: ControlReply): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };
  socket.once('close', () => abort.abort(new Error('the client went away')));
  socket.on('error', (err) => {
    // The CLI went away mid-answer (Ctrl-C): its check is stopped by the close that follows.
    options.logger.debug(`control socket client: ${err.message}`);
    socket.destroy();
  });
  socket.on('data', () => {
    if (socket.bytesRead > MAX_REQUEST_BYTES) socket.destroy();
  });
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  lines.once('line', (line) => {
    lines.close();
    // Nothing more is read, but the client's going away must still be seen (it stops the check).
    socket.resume();
    const request = parseRequest(line);
    if (request === undefined) {
      reply({ refused: { code: 'E_CONTROL_REQUEST', message: 'not a check request of this synker version' } });
      socket.end();
      return;
    }
    const heartbeat = setInterval(() => reply({ alive: true }), HEARTBEAT_MS);
    const done = options
      .check(request, abort.signal)
      .then(async (reports) => {
        // A check cut short by the agent's stop is no answer: the client checks by itself.
        if (abort.signal.aborted) throw abort.signal.reason;
        await sendReports(socket, reports);
        reply({ done: true });
      })
      .catch((err: unknown) => {
        if (abort.signal.aborted) {
          const why = abort.signal.reason instanceof Error ? abort.signal.reason.message : String(abort.signal.reason);
          options.logger.info(`a check asked for over the control socket stopped: ${why}`);
          reply({ refused: { code: 'E_CONTROL_STOPPED', message: why } });
          return;
        }
        if (!(err instanceof SynkerError)) options.logger.error('a check asked for over the control socket failed:', err);
        const refusal =
          err instanceof SynkerError
            ? { code: err.code, message: err.message }
            : { code: errnoCode(err) ?? 'E_CONTROL_FAILED', message: err instanceof Error ? err.message : String(err) };
        reply({ refused: refusal });
      })
      .finally(() => {
        clearInterval(heartbeat);
        running.delete(abort);
        socket.end();
      });
    running.set(abort, done);
  });
}

/**
 * Each report as its head (differences left out), then its differences in
 * lines of DIFFERENCES_PER_LINE, waiting whenever the socket asks to drain:
 * neither end ever holds a report's JSON as one string.
 */
async function sendReports(socket: net.Socket, reports: readonly CheckReport[]): Promise<void> {
  for (const report of reports) {
    if (!send(socket, { report: { ...report, differences: [] } })) await drained(socket);
    for (let i = 0; i < report.differences.length; i += DIFFERENCES_PER_LINE)
      if (!send(socket, { differences: report.differences.slice(i, i + DIFFERENCES_PER_LINE) })) await drained(socket);
  }
}

/** Writes one reply line; false when the socket's buffer is full (or the socket is gone). */
function send(socket: net.Socket, message: ControlReply): boolean {
  return !socket.destroyed && socket.write(`${JSON.stringify(message)}\n`);
}

function drained(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const REQUEST_KEYS = new Set(['version', 'command', 'configPath', 'folder', 'record', 'options']);
const OPTION_KEYS = new Set(['peer', 'verify', 'sizeOnly', 'timeoutMs', 'mtimeToleranceMs', 'jobs', 'mdns', 'interfaces']);
const onlyKeys = (o: object, known: Set<string>): boolean => Object.keys(o).every((k) => known.has(k));

/**
 * The request, if it is a well-formed one of this version; the agent runs
 * nothing else. A field it does not know is refused rather than ignored: a
 * newer CLI's option would otherwise be silently dropped from the check.
 */
export function parseRequest(line: string): ControlCheckRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !onlyKeys(value, REQUEST_KEYS)) return undefined;
  const r = value as Record<string, unknown>;
  const o = r.options as Record<string, unknown> | undefined;
  if (r.version !== CONTROL_VERSION || r.command !== 'check') return undefined;
  if (
    !isString(r.configPath) ||
    !(r.folder === null || isString(r.folder)) ||
    typeof r.record !== 'boolean' ||
    typeof o !== 'object' ||
    o === null ||
    !onlyKeys(o, OPTION_KEYS)
  )
    return undefined;
  const { peer, verify, sizeOnly, timeoutMs, mtimeToleranceMs, jobs, mdns, interfaces } = o;
  if (peer !== undefined && !isString(peer)) return undefined;
  if (typeof verify !== 'boolean' || typeof sizeOnly !== 'boolean' || !isCount(timeoutMs)) return undefined;
  // Both or neither: a search half-given is not from synker.
  if ((mdns === undefined) !== (interfaces === undefined)) return undefined;
  if (mdns !== undefined && typeof mdns !== 'boolean') return undefined;
  if (mtimeToleranceMs !== 'auto' && !isCount(mtimeToleranceMs)) return undefined;
  if (jobs !== undefined && !(isCount(jobs) && jobs > 0)) return undefined;
  if (interfaces !== undefined && (!Array.isArray(interfaces) || !interfaces.every(isString))) return undefined;
  return {
    version: CONTROL_VERSION,
    command: 'check',
    configPath: r.configPath,
    folder: r.folder as string | null,
    record: r.record,
    options: {
      ...(peer === undefined ? {} : { peer }),
      verify,
      sizeOnly,
      timeoutMs,
      mtimeToleranceMs,
      ...(jobs === undefined ? {} : { jobs }),
      ...(mdns === undefined ? {} : { mdns, interfaces: interfaces as string[] }),
    },
  };
}
