/**
 * Connecting to an agent: open the wss connection at host:port, pin the
 * device ID its certificate must show, exchange hellos, and hand back the
 * session (client.ts has the session's request API).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { formatDeviceId } from '../identity/device-id.js';
import type { Identity } from '../identity/identity.js';
import type { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FEATURE_FILE_DATA, FEATURE_PROGRESS, FEATURE_UNHASHED_FILE_END, LIMITS, MAX_FRAME_BYTES, WS_PATH } from '../protocol/index.js';
import { ClientSession, type ConnectOptions, type PeerSession } from './client.js';
import { Connection } from './connection.js';
import { PeerError, WrongDeviceError } from './errors.js';
import { SOFTWARE } from './server-session.js';
import { resolveTimeouts } from './timeouts.js';
import { TLS_SETTINGS, peerDeviceId } from '../identity/tls.js';

/** The TLS and WebSocket settings of a client connection (the transport benchmark measures these too). */
export function wssClientOptions(identity: Identity): WebSocket.ClientOptions {
  return {
    cert: identity.certPem,
    key: identity.keyPem,
    ...TLS_SETTINGS,
    // No CA: the server's certificate is pinned by its hash on 'upgrade' (connectToPeer).
    rejectUnauthorized: false,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  };
}

export async function connectToPeer(options: ConnectOptions): Promise<PeerSession> {
  const timeouts = resolveTimeouts(options.timeouts);
  const log = options.logger ?? createLogger('peer');
  const { host, port, identity } = options;
  const where = `${host}:${port}`;
  const expected = options.expectDeviceId;
  options.signal?.throwIfAborted();

  const url = `wss://${isIP(host) === 6 ? `[${host}]` : host}:${port}${WS_PATH}`;
  const ws = new WebSocket(url, { ...wssClientOptions(identity), handshakeTimeout: timeouts.handshakeTimeout, followRedirects: false });

  return new Promise<PeerSession>((resolve, reject) => {
    let settled = false;
    let connection: Connection | undefined;
    const fail = (error: SynkerError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (connection !== undefined) connection.terminate(error);
      else ws.terminate();
      reject(error);
    };
    const deadline = setTimeout(() => {
      fail(
        new PeerError('E_HANDSHAKE_TIMEOUT', `${where} did not complete the synker handshake within ${timeouts.handshakeTimeout} ms`, {
          hint: 'Check that a synker agent listens at that address and port.',
        }),
      );
    }, timeouts.handshakeTimeout);
    const onAbort = (): void => fail(new PeerError('E_ABORTED', `connecting to ${where} was aborted`, { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
    };

    let socket: TLSSocket | undefined;
    ws.on('upgrade', (res: IncomingMessage) => {
      socket = res.socket as TLSSocket;
      const actual = peerDeviceId(res.socket as TLSSocket);
      if (actual !== expected) {
        fail(
          new WrongDeviceError(
            `${where} presented the certificate of ${actual === undefined ? 'no device' : formatDeviceId(actual)}, not of the expected device ${formatDeviceId(expected)}`,
            actual,
            {
              hint: 'Another machine answers at that address (an address changed, or someone impersonates the device). Nothing was sent to it.',
            },
          ),
        );
      }
    });
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      fail(new PeerError('E_CONNECT', `${where} is not a synker agent (it answered HTTP ${res.statusCode})`, { hint: 'Check the port.' }));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (connection !== undefined) return;
      fail(connectError(where, err));
    });
    ws.on('close', () => {
      if (connection !== undefined) return;
      fail(
        new PeerError('E_CONNECT', `${where} closed the connection during the handshake`, {
          hint: 'The agent may be busy or stopping; try again.',
        }),
      );
    });

    ws.on('open', () => {
      if (settled) return;
      const conn = new Connection(ws, timeouts, log, where, socket);
      connection = conn;
      const session = new ClientSession(conn, options, timeouts);
      conn.start({
        onMessage: (message) => {
          if (!settled) {
            const refusal = session.acceptHello(message);
            if (refusal !== undefined) {
              fail(refusal);
              return;
            }
            settled = true;
            cleanup();
            resolve(session);
            return;
          }
          session.onMessage(message);
        },
        onClose: (error) => {
          if (!settled) fail(error ?? new PeerError('E_CONNECT', `${where} closed the connection during the handshake`));
          session.onClose(error);
        },
      });
      conn.send({
        kind: 'hello',
        name: truncate(options.name ?? defaultName()),
        deviceId: identity.deviceId,
        software: SOFTWARE,
        features: [FEATURE_FILE_DATA, FEATURE_UNHASHED_FILE_END, FEATURE_PROGRESS],
      });
    });
  });
}

function defaultName(): string {
  return os.hostname() || 'synker';
}

function truncate(name: string): string {
  return Buffer.byteLength(name) <= LIMITS.nameBytes && name.length > 0 ? name : name.slice(0, 40) || 'synker';
}

function connectError(where: string, err: Error & { code?: string }): PeerError {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused (no agent listens there)',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset (the agent may be busy or refused this address)',
    ENOTFOUND: 'the host name is unknown',
    EAI_AGAIN: 'the host name could not be resolved',
  };
  const reason = (err.code !== undefined ? reasons[err.code] : undefined) ?? err.message;
  return new PeerError('E_CONNECT', `cannot connect to ${where}: ${reason}`, {
    cause: err,
    hint: 'Check that `synker agent` runs on that machine and that its port is reachable.',
  });
}
