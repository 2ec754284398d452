/**
 * One WebSocket carrying protocol frames, the same on both ends: decoding
 * through the one validating decoder, paced sending, keepalive and the idle
 * deadline, and "send an error frame, then close" for every failure.
 *
 * Longer than 300 lines: it is one class around one socket, and sending,
 * pacing, pausing, the idle clock and the three ways to close all share its
 * state (finished, the waiters, the timers) and end in the same finish();
 * split apart, each piece would have to reach back into the others.
 */
import type WebSocket from 'ws';
import type { SynkerError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import {
  HANDSHAKE_FRAME_BYTES,
  LIMITS,
  ProtocolError,
  SEND_HIGH_WATER_BYTES,
  UNREAD_ANSWERS_LIMIT_BYTES,
  decodeFrame,
  encodeMessage,
  type DecodedMessage,
  type OutgoingMessage,
} from '../protocol/index.js';
import { PeerError } from './errors.js';
import type { QuietLog } from './quiet-log.js';
import type { SessionTimeouts } from './timeouts.js';
import { formatDuration } from '../base/units.js';
import { printablePath } from '../base/printable.js';

export interface ConnectionHandlers {
  /** Every decoded message except unknown types, which the connection answers itself. */
  onMessage(message: Exclude<DecodedMessage, { kind: 'unknown' }>): void;
  /** Called once, when the connection is over; `error` is undefined for a clean close. */
  onClose(error: SynkerError | undefined): void;
}

/** What the connection needs of its socket to batch writes. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

// WebSocket close codes (RFC 6455): normal, policy violation, internal error.
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;
const CLOSE_INTERNAL = 1011;
const MAX_CLOSE_REASON = 123;

export class Connection {
  /** Who is on the other end, for messages: "nas (192.0.2.7)". Updated once the hello is in. */
  peerLabel: string;
  private lastReceived = Date.now();
  private readingPaused = false;
  private unknownFrames = 0;
  private finished = false;
  private handlers: ConnectionHandlers | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly closeWaiters: Array<() => void> = [];
  private readonly sendWaiters: Array<() => void> = [];
  private corked = false;
  /** Bytes of send() frames the socket has not yet handed to the kernel. */
  private unpacedBytes = 0;
  /**
   * Largest frame decoded: a hello or an error until the handshake is done
   * (acceptFullFrames), so that a peer nobody trusts yet costs a decode of a
   * few KiB at most, never one of 1 MiB.
   */
  private frameLimit = HANDSHAKE_FRAME_BYTES;
  /** The stall clock (watchProgress): whether a request waits on the peer, and when one last advanced. */
  private stall: { waiting: () => boolean; last: number } | undefined;
  /** When checkIdle last ran: a check that runs much later than planned found our own event loop blocked. */
  private lastCheck = Date.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly timeouts: SessionTimeouts,
    private readonly log: Logger,
    peerLabel: string,
    /** The TLS socket under `ws`, to group the frames of one event-loop turn into one write. */
    private readonly socket?: Corkable,
    /** The agent's: its warnings about a peer are rate-limited per `quietKey` (the peer's address). */
    private readonly quiet?: { log: QuietLog; key: string },
  ) {
    this.peerLabel = peerLabel;
  }

  /** The handshake is done and the peer is the one expected (trusted, pinned): frames up to MAX_FRAME_BYTES from now on. */
  acceptFullFrames(): void {
    this.frameLimit = Number.POSITIVE_INFINITY;
  }

  /**
   * Start the stall clock (a client whose server announced `progress`):
   * while `waiting()` says a request waits on the peer and reading is not
   * paused, the session fails with E_PEER_STALLED when nothing advanced it
   * (progressed()) for `stallTimeout`, however well the peer answers pings.
   */
  watchProgress(waiting: () => boolean): void {
    this.stall = { waiting, last: Date.now() };
  }

  /** A request advanced: entries, file data, an end, an error for it, or a `progress` message that counted up. */
  progressed(): void {
    if (this.stall !== undefined) this.stall.last = Date.now();
  }

  /** A warning about what the peer did: on the agent at most one a minute per peer address, then a count (quiet-log.ts). */
  private warn(kind: string, message: string): void {
    if (this.quiet === undefined) this.log.warn(message);
    else this.quiet.log.warn(`${kind}:${this.quiet.key}`, message);
  }

  /** Start reading: handlers get every message from now on. */
  start(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    const ws = this.ws;
    ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    ws.on('pong', () => this.touch());
    ws.on('ping', () => this.touch());
    ws.on('error', (err: Error & { code?: string }) => {
      // ws reports protocol-level problems (oversized frame: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) and socket errors here.
      const error =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? new ProtocolError('E_FRAME_TOO_LARGE', `${this.peerLabel} sent a message larger than the protocol's limit of 1 MiB`)
          : new PeerError('E_PEER_CLOSED', `the connection to ${this.peerLabel} failed: ${err.message}`, { cause: err });
      if (error instanceof ProtocolError) this.warn('protocol', `closing the session with ${this.peerLabel}: ${error.message}`);
      this.finish(error);
    });
    ws.on('close', (code, reason) => {
      this.finish(
        new PeerError(
          'E_PEER_CLOSED',
          // The reason is the peer's words (up to 123 bytes): escaped, like all of them.
          `${this.peerLabel} closed the connection (code ${code}${reason.length > 0 ? `, ${printablePath(reason.toString())}` : ''})`,
          {
            hint: 'The other agent may have stopped or restarted; try again.',
          },
        ),
      );
      for (const wake of this.closeWaiters.splice(0)) wake();
    });
    const keepalive = setInterval(() => {
      if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
    }, this.timeouts.keepaliveInterval);
    const idleCheck = setInterval(() => this.checkIdle(), Math.max(10, Math.floor(this.timeouts.idleTimeout / 10)));
    this.timers.push(keepalive, idleCheck);
    for (const timer of this.timers) timer.unref();
  }

  get isOpen(): boolean {
    return !this.finished && this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Send without waiting (small control messages: answers, ends). Each is
   * cheap, but a peer that keeps sending requests and never reads would grow
   * our memory one answer at a time: past UNREAD_ANSWERS_LIMIT_BYTES waiting
   * unread, the session ends (E_LIMIT).
   */
  send(message: OutgoingMessage): void {
    if (!this.isOpen) return;
    const frame = encodeMessage(message);
    if (this.unpacedBytes + frame.length > UNREAD_ANSWERS_LIMIT_BYTES) {
      const error = new ProtocolError(
        'E_LIMIT',
        `${this.peerLabel} sends requests without reading the answers: more than ${UNREAD_ANSWERS_LIMIT_BYTES / (1024 * 1024)} MiB of answers wait unread`,
        {
          hint: 'synker reads every answer before it asks for more: make sure both devices run the same synker version, and report it if they do.',
        },
      );
      this.warn('unread', `closing the session: ${error.message}`);
      this.fail(error);
      return;
    }
    this.unpacedBytes += frame.length;
    this.corkUntilNextTurn();
    this.ws.send(frame, (err) => {
      // Called once the frame is in the kernel, or with an error when the socket is gone.
      this.unpacedBytes -= frame.length;
      if (err) this.log.debug(`send to ${this.peerLabel} failed: ${err.message}`);
    });
  }

  /**
   * Send, then wait while more than SEND_HIGH_WATER_BYTES are queued for the
   * socket: a slow reader slows the producer instead of growing our memory.
   */
  sendPaced(message: OutgoingMessage): Promise<void> {
    return this.sendPacedFrame(encodeMessage(message));
  }

  /** sendPaced for a frame already encoded (encodeFileDataInHeadroom). */
  async sendPacedFrame(frame: Buffer): Promise<void> {
    if (!this.isOpen) throw this.closedError();
    this.corkUntilNextTurn();
    if (this.ws.bufferedAmount + frame.length <= SEND_HIGH_WATER_BYTES) {
      this.ws.send(frame, (err) => {
        if (err) this.log.debug(`send to ${this.peerLabel} failed: ${err.message}`);
      });
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error | null): void => {
        if (settled) return;
        settled = true;
        const index = this.sendWaiters.indexOf(wake);
        if (index !== -1) this.sendWaiters.splice(index, 1);
        if (err) reject(this.closedError());
        else resolve();
      };
      // The callback runs once this frame (and so everything before it) is handed to the kernel.
      const wake = (): void => done(new Error('closed'));
      this.sendWaiters.push(wake);
      this.ws.send(frame, done);
    });
  }

  /**
   * Holds this turn's frames in the socket and writes them together at the
   * next one: a sync of small files sends a request, or a chunk and an end,
   * per file, and each frame on its own cost a TLS record and a system call
   * (ws corks each frame's header and body itself; corks nest).
   */
  private corkUntilNextTurn(): void {
    const socket = this.socket;
    if (this.corked || socket === undefined) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** Stop reading the socket (the consumer is behind); the idle clock stops too. */
  pauseReading(): void {
    if (this.readingPaused || !this.isOpen) return;
    this.readingPaused = true;
    this.ws.pause();
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.lastReceived = Date.now();
    this.progressed();
    if (this.ws.readyState === this.ws.OPEN) this.ws.resume();
  }

  /**
   * End the session because of `error`: tell the peer (an `error` frame with
   * the full text), then close with a short reason. Handlers get `error`.
   */
  fail(error: SynkerError): void {
    if (this.finished) return;
    if (this.ws.readyState === this.ws.OPEN) {
      const wire: OutgoingMessage = { kind: 'error', code: error.code, message: truncate(error.message, LIMITS.errorMessageBytes) };
      if (error.hint !== undefined) wire.hint = truncate(error.hint, LIMITS.errorHintBytes);
      this.ws.send(encodeMessage(wire), () => undefined);
      this.ws.close(error.code === 'E_INTERNAL' ? CLOSE_INTERNAL : CLOSE_POLICY, truncate(error.code, MAX_CLOSE_REASON));
      this.forceCloseLater();
    } else {
      this.ws.terminate();
    }
    this.finish(error);
  }

  /** The peer ended the session with an `error` frame: close our side too. */
  endByPeer(error: SynkerError): void {
    if (this.finished) return;
    this.ws.close(CLOSE_NORMAL);
    this.forceCloseLater();
    this.finish(error);
  }

  /** Clean close; resolves when the socket is closed (or after a grace period). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.ws.readyState === this.ws.CLOSED) resolve();
      else this.closeWaiters.push(resolve);
    });
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(CLOSE_NORMAL);
      this.forceCloseLater();
    }
    this.finish(undefined);
    await closed;
  }

  /** Resolves when the socket is closed, however that happened. */
  whenClosed(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.ws.readyState === this.ws.CLOSED) resolve();
      else this.closeWaiters.push(resolve);
    });
  }

  /** Abort at once, without a goodbye (wrong certificate, shutdown of a frozen peer). */
  terminate(error: SynkerError): void {
    this.ws.terminate();
    this.finish(error);
  }

  private closedError(): PeerError {
    return new PeerError('E_SESSION_CLOSED', `the session with ${this.peerLabel} is closed`);
  }

  /** A peer that ignores our close frame must not hold the socket open. */
  private forceCloseLater(): void {
    const timer = setTimeout(() => this.ws.terminate(), Math.min(2000, this.timeouts.idleTimeout));
    timer.unref();
    this.ws.once('close', () => clearTimeout(timer));
  }

  private touch(): void {
    this.lastReceived = Date.now();
  }

  private checkIdle(): void {
    if (this.finished) return;
    const now = Date.now();
    const period = Math.max(10, Math.floor(this.timeouts.idleTimeout / 10));
    const late = now - this.lastCheck > Math.max(3 * period, 1000);
    this.lastCheck = now;
    if (late || this.readingPaused) {
      // Our own event loop was blocked (what the peer sent may be waiting unread), or we stopped reading on
      // purpose: neither is the peer's silence. Its clocks start again.
      this.lastReceived = Math.max(this.lastReceived, now - period);
      if (this.stall !== undefined) this.stall.last = Math.max(this.stall.last, now - period);
      return;
    }
    const silent = now - this.lastReceived;
    if (silent > this.timeouts.idleTimeout) {
      this.fail(
        new PeerError(
          'E_PEER_UNRESPONSIVE',
          `${this.peerLabel} sent nothing for ${formatDuration(silent)}: it is frozen, asleep or unreachable`,
          {
            hint: 'Check that the other machine is awake and on the network, then try again.',
          },
        ),
      );
      return;
    }
    const stall = this.stall;
    if (stall === undefined) return;
    // The clock runs only while a request waits on the peer: it starts when one does.
    if (!stall.waiting()) {
      stall.last = now;
      return;
    }
    const still = now - stall.last;
    if (still > this.timeouts.stallTimeout) {
      this.fail(
        new PeerError(
          'E_PEER_STALLED',
          `${this.peerLabel} answers but has made no progress for ${formatDuration(still)}: its scan or its disk seems stuck`,
          {
            hint: "Check the other machine's disk (a failing or stuck disk, an unreachable network folder) and its agent's log, then try again.",
          },
        ),
      );
    }
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.finished) return;
    this.touch();
    if (!isBinary) {
      this.fail(new ProtocolError('E_MALFORMED', `${this.peerLabel} sent a text message; the protocol uses binary frames only`));
      return;
    }
    let message: DecodedMessage;
    try {
      if (data.length > this.frameLimit) {
        throw new ProtocolError(
          'E_FRAME_TOO_LARGE',
          `a frame of ${data.length} bytes before the handshake was done; until then a frame (a hello or an error) is at most ${this.frameLimit} bytes`,
        );
      }
      message = decodeFrame(data);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      const error = new ProtocolError(err.code, `${this.peerLabel} broke the protocol: ${err.message}`, { cause: err });
      this.warn('protocol', `closing the session: ${error.message}`);
      this.fail(error);
      return;
    }
    if (message.kind === 'unknown') {
      if (this.frameLimit === HANDSHAKE_FRAME_BYTES) {
        // Probing with unknown types is for peers past the handshake; before it, only a hello or an error is allowed.
        this.fail(new ProtocolError('E_UNEXPECTED_MESSAGE', `unexpected message: a message of unknown type ${message.type} before hello`));
        return;
      }
      if (++this.unknownFrames > LIMITS.unknownFrames) {
        this.fail(new ProtocolError('E_LIMIT', `${this.peerLabel} sent more than ${LIMITS.unknownFrames} messages of unknown types`));
        return;
      }
      this.log.debug(`${this.peerLabel} sent a message of unknown type ${message.type}`);
      if (message.req !== undefined) {
        this.send({
          kind: 'error',
          req: message.req,
          code: 'E_UNSUPPORTED',
          message: `this synker does not know message type ${message.type}`,
        });
      }
      return;
    }
    this.handlers?.onMessage(message);
  }

  private finish(error: SynkerError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const wake of this.sendWaiters.splice(0)) wake();
    this.handlers?.onClose(error);
  }
}

/** Cut a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = Buffer.from(text, 'utf8')
    .subarray(0, maxBytes - 3)
    .toString('utf8');
  if (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return `${out}...`;
}
