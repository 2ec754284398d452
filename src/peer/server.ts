/**
 * The agent's server side: accepts wss connections (TLS 1.3, client
 * certificates required, device IDs pinned by hash), enforces connection
 * caps, and runs one ServerSession per connection. Trust and folders are
 * read from the live directory at each session, so config changes apply
 * without a restart.
 */
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Identity } from '../identity/identity.js';
import { createLogger, type Logger } from '../base/log.js';
import { MAX_FRAME_BYTES, DEFAULT_PORT, WS_PATH } from '../protocol/index.js';
import { Connection } from './connection.js';
import { ConnectionLimiter, DEFAULT_CAPS, type ConnectionCaps } from './limiter.js';
import { QuietLog } from './quiet-log.js';
import type { AgentDirectory, BackupVerdictSink, ManifestSource, UntrustedAttempt, VerifiedRecordsSource } from './agent-directory.js';
import { ServerSession } from './server-session.js';
import { resolveTimeouts, type SessionTimeouts } from './timeouts.js';
import { TLS_SETTINGS, peerDeviceId } from '../identity/tls.js';

export type {
  AgentDirectory,
  ManifestSource,
  ManifestScanRequest,
  FolderManifest,
  UntrustedAttempt,
  VerifiedRecordsSource,
  BackupVerdictSink,
} from './agent-directory.js';

export interface AgentServerOptions {
  identity: Identity;
  directory: AgentDirectory;
  manifestSource: ManifestSource;
  /** Answers verified-requests for backup folders (feature `verified-records`); absent: not announced. */
  verifiedRecords?: VerifiedRecordsSource;
  /** Keeps what backups tell this source (feature `backup-verdict`); absent: not announced, and refused. */
  backupVerdicts?: BackupVerdictSink;
  /** Records pairing attempts from untrusted devices (for `synker peers`). */
  onUntrustedDevice?: (attempt: UntrustedAttempt) => void;
  /** Default: all interfaces. */
  host?: string;
  /** Default 7780; 0 picks a free port. */
  port?: number;
  caps?: Partial<ConnectionCaps>;
  timeouts?: Partial<SessionTimeouts>;
  logger?: Logger;
}

export interface AgentServer {
  readonly port: number;
  readonly host: string;
  /** Open connections (including ones still in their handshake). */
  readonly connections: number;
  /** Stop accepting, end every session with E_SHUTTING_DOWN, and wait for the sockets to close. */
  close(): Promise<void>;
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const log = options.logger ?? createLogger('agent');
  const quiet = new QuietLog(log);
  const timeouts = resolveTimeouts(options.timeouts);
  const caps = { ...DEFAULT_CAPS, ...options.caps };
  const limiter = new ConnectionLimiter(caps);
  const sessions = new Set<ServerSession>();
  const sockets = new Set<Socket>();
  /** Sockets refused at accept: their TLS layer then fails too, which is no news. */
  const refused = new WeakSet<Socket>();
  let closing = false;

  const server = https.createServer({
    cert: options.identity.certPem,
    key: options.identity.keyPem,
    ...TLS_SETTINGS,
    // Every client must present a certificate, but there is no CA: the device ID is checked by hash.
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: timeouts.handshakeTimeout,
    headersTimeout: timeouts.handshakeTimeout,
    requestTimeout: timeouts.handshakeTimeout,
    connectionsCheckingInterval: Math.min(1000, timeouts.handshakeTimeout),
  });

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const refusal = closing ? 'the agent is stopping' : limiter.admit(address);
    if (refusal !== undefined) {
      quiet.warn(
        `refused:${address}`,
        `refused a connection from ${address}: ${refusal}`,
        (n, s) => `refused ${n} more connections from ${address} in the last ${s} s`,
      );
      refused.add(socket);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      limiter.release(address);
    });
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    // TLS is done; the upgrade must follow within the handshake deadline (the hello deadline runs in the session).
    const timer = setTimeout(() => {
      if (!upgraded.has(socket)) socket.destroy();
    }, timeouts.handshakeTimeout);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });

  server.on('tlsClientError', (err, socket) => {
    // By now the TLS socket is closed and has forgotten its peer; the TCP socket under it (read at accept) has not.
    const tcp = (socket as TLSSocket & { _parent?: Socket })._parent;
    if (tcp !== undefined && refused.has(tcp)) return;
    const address = socket.remoteAddress ?? tcp?.remoteAddress ?? 'unknown';
    quiet.warn(
      `tls:${address}`,
      `TLS handshake with ${address} failed: ${err.message}`,
      (n, s) => `${n} more TLS handshakes with ${address} failed in the last ${s} s`,
    );
  });

  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('This is a synker agent: it speaks WebSocket only.\n');
  });

  const upgraded = new WeakSet<object>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== WS_PATH || closing) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    upgraded.add(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tlsSocket = req.socket as TLSSocket;
      const address = tlsSocket.remoteAddress ?? 'unknown';
      const connection = new Connection(ws, timeouts, log, address, tlsSocket, { log: quiet, key: address });
      const session = new ServerSession(connection, {
        certDeviceId: peerDeviceId(tlsSocket),
        address,
        identity: options.identity,
        directory: options.directory,
        manifestSource: options.manifestSource,
        verifiedRecords: options.verifiedRecords,
        backupVerdicts: options.backupVerdicts,
        onUntrustedDevice: options.onUntrustedDevice,
        timeouts,
        log,
        quiet,
        onEnd: () => sessions.delete(session),
      });
      sessions.add(session);
      session.start();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error(`the agent's server failed: ${err.message}`));
  const bound = server.address() as AddressInfo;
  log.info(`listening on ${bound.address}:${bound.port} (wss, TLS 1.3)`);

  return {
    port: bound.port,
    host: bound.address,
    get connections() {
      return limiter.active;
    },
    async close() {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Sessions say goodbye (E_SHUTTING_DOWN) and wait for their socket to close;
      // connections still in their handshake have nobody to say it to.
      await Promise.all([...sessions].map((session) => session.shutdown()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
      wss.close();
      quiet.close();
    },
  };
}
