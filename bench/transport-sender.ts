/**
 * Child process of the transport benchmark: listens on 127.0.0.1 with
 * synker's TLS settings and, to the first client, sends TOTAL bytes as
 * CHUNK-byte messages (WebSocket frames, or plain TLS writes), honouring
 * the socket's backpressure. Reports its port, then its CPU seconds, to
 * the parent over IPC. No disk, no hashing: the cost of the channel alone.
 *
 *   fork('transport-sender.js', [MODE, TOTAL, CHUNK]) with MODE wss | tls
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Identity } from '../src/identity/identity.js';
import { MAX_FRAME_BYTES } from '../src/protocol/limits.js';
import { TLS_SETTINGS } from '../src/identity/tls.js';

const [mode, totalArg, chunkArg] = process.argv.slice(2);
const total = Number(totalArg);
const chunk = Buffer.alloc(Number(chunkArg), 0x5a);
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** Writes until the socket asks to wait, resumes on 'drain', reports when all is written. */
function pump(write: (data: Buffer) => void, socket: tls.TLSSocket): void {
  let sent = 0;
  const go = (): void => {
    while (sent < total) {
      write(chunk);
      sent += chunk.length;
      if (socket.writableNeedDrain) {
        socket.once('drain', go);
        return;
      }
    }
    process.send!({ cpuSeconds: cpuSeconds() });
  };
  go();
}

process.once('message', (identity: Identity) => {
  const options = { cert: identity.certPem, key: identity.keyPem, ...TLS_SETTINGS, requestCert: true, rejectUnauthorized: false };
  const listening = (address: AddressInfo): void => {
    process.send!({ port: address.port });
  };
  if (mode === 'wss') {
    const server = https.createServer(options);
    const wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    wss.on('connection', (ws, request) => pump((data) => ws.send(data, { binary: true }), request.socket as tls.TLSSocket));
    server.listen(0, '127.0.0.1', () => listening(server.address() as AddressInfo));
  } else {
    const server = tls.createServer(options, (socket) => pump((data) => socket.write(data), socket));
    server.listen(0, '127.0.0.1', () => listening(server.address() as AddressInfo));
  }
});
