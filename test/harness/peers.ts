/**
 * A loopback harness for sessions: identities, a live in-memory directory
 * (trust and folders, mutable like the real config), an agent server with a
 * generated manifest source, and raw msgpackr peers that can send anything.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket, { WebSocketServer } from 'ws';
import { createIdentity, type Identity } from '../../src/identity/identity.js';
import type { FolderConfig, TrustedDevice } from '../../src/config/types.js';
import type { Logger } from '../../src/base/log.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { startAgentServer, type AgentServer, type AgentServerOptions, type UntrustedAttempt } from '../../src/peer/index.js';
import { peerDeviceId } from '../../src/identity/tls.js';
import { WS_PATH } from '../../src/protocol/index.js';
import { toAsync } from './manifests.js';

let cached: Identity[] | undefined;
/** Three identities (server, client, stranger), made once per test process: key generation is slow-ish. */
export async function identities(): Promise<{ server: Identity; client: Identity; stranger: Identity }> {
  cached ??= await Promise.all([createIdentity('server'), createIdentity('client'), createIdentity('stranger')]);
  return { server: cached[0]!, client: cached[1]!, stranger: cached[2]! };
}

export class MemoryDirectory {
  name = 'nas';
  trustedDevices: TrustedDevice[] = [];
  folderList: FolderConfig[] = [];
  trustedLookups = 0;
  agentName(): string {
    return this.name;
  }
  trusted(deviceId: string): TrustedDevice | undefined {
    this.trustedLookups++;
    return this.trustedDevices.find((d) => d.deviceId === deviceId);
  }
  folders(): FolderConfig[] {
    return this.folderList;
  }
}

/** Collects log lines instead of printing them, so tests can assert on them. */
export class MemoryLogger implements Logger {
  lines: string[] = [];
  error = (m: string): void => void this.lines.push(`error ${m}`);
  warn = (m: string): void => void this.lines.push(`warn ${m}`);
  info = (m: string): void => void this.lines.push(`info ${m}`);
  debug = (m: string): void => void this.lines.push(`debug ${m}`);
}

export interface TestAgent {
  server: AgentServer;
  directory: MemoryDirectory;
  log: MemoryLogger;
  attempts: UntrustedAttempt[];
  port: number;
}

/** An agent on 127.0.0.1:0 sharing folder `photos` (source, `entries`) with `shareWith`. */
export async function startTestAgent(
  identity: Identity,
  options: {
    shareWith?: string[];
    trust?: string[];
    entries?: () => Iterable<ManifestEntry>;
    ignore?: string[];
  } & Partial<AgentServerOptions> = {},
): Promise<TestAgent> {
  const directory = new MemoryDirectory();
  directory.trustedDevices = (options.trust ?? []).map((deviceId) => ({ deviceId }));
  directory.folderList = [
    { id: 'photos', path: '/srv/photos', role: 'source', shareWith: options.shareWith ?? options.trust ?? [] },
    { id: 'private', path: '/srv/private', role: 'source', shareWith: [] },
  ];
  const log = new MemoryLogger();
  const attempts: UntrustedAttempt[] = [];
  const entries = options.entries ?? (() => []);
  const server = await startAgentServer({
    identity,
    directory,
    host: '127.0.0.1',
    port: 0,
    logger: log,
    onUntrustedDevice: (a) => attempts.push(a),
    manifestSource: async () => ({ ignoreRules: options.ignore ?? ['*.tmp', '/cache/'], entries: toAsync(entries()) }),
    ...options,
  });
  return { server, directory, log, attempts, port: server.port };
}

// Raw peers: msgpackr directly, so they can send what the project's encoder never would.
export const rawPackr = new Packr({ useRecords: false });
const rawUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
export function rawDecode(data: Buffer): unknown {
  return rawUnpackr.unpack(data);
}

export interface RawPeer {
  ws: WebSocket;
  /** Every frame received, decoded with plain msgpackr. */
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
  sendBytes(bytes: Buffer): void;
  /** Resolves with the first received frame matching `predicate`. */
  waitFor(predicate: (frame: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
}

function wrapRaw(ws: WebSocket): RawPeer {
  const frames: unknown[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    try {
      frames.push(rawDecode(data));
    } catch {
      frames.push(data);
    }
    for (const w of waiters.splice(0)) w();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return {
    ws,
    frames,
    closed,
    send: (value) => ws.send(rawPackr.pack(value)),
    sendBytes: (bytes) => ws.send(bytes),
    waitFor: (predicate, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)),
          timeoutMs,
        );
        const check = (): boolean => {
          const found = frames.find(predicate);
          if (found === undefined) return false;
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        if (check()) return;
        const onFrame = (): void => {
          if (!check()) waiters.push(onFrame);
        };
        waiters.push(onFrame);
        void closed.then(() =>
          setTimeout(() => {
            if (check()) return;
            clearTimeout(timer);
            reject(new Error(`closed without a matching frame; got ${JSON.stringify(frames)}`));
          }, 20),
        );
      }),
  };
}

/** A raw client connected to an agent (TLS with `identity`'s certificate), not yet having sent anything. */
export async function rawClient(port: number, identity: Identity): Promise<RawPeer> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${WS_PATH}`, {
    cert: identity.certPem,
    key: identity.keyPem,
    rejectUnauthorized: false,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  const peer = wrapRaw(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return peer;
}

export function rawHello(identity: Identity, overrides: Record<string, unknown> = {}, version = 1): unknown[] {
  return [version, 1, { name: 'raw', deviceId: identity.deviceId, software: 'synker 0.0.0-raw', features: [], ...overrides }];
}

/** A raw server: TLS with `identity`, runs `onSession` for each WebSocket with the client's device ID. */
export async function startRawServer(
  identity: Identity,
  onSession: (peer: RawPeer, clientDeviceId: string | undefined) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer({
    cert: identity.certPem,
    key: identity.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws, req) => onSession(wrapRaw(ws), peerDeviceId(req.socket as TLSSocket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Frames a hostile server sends after its hello to answer a manifest request. */
export function isFrameOfType(type: number): (frame: unknown) => boolean {
  return (frame) => Array.isArray(frame) && frame[1] === type;
}
