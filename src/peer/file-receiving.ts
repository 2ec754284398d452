/**
 * The client's half of file transfer (docs/protocol.md section 6): several
 * `file-request`s in flight (up to LIMITS.filesInFlight), each file's chunks
 * handed to its consumer one at a time and in order. While too many received
 * bytes wait for the consumer (a slow disk), the socket is not read, so TCP
 * slows the server down. A peer that sends data out of order or past the
 * requested size has broken the protocol: the session ends.
 */
import type { SynkerError } from '../base/errors.js';
import {
  LIMITS,
  ProtocolError,
  RECEIVE_HIGH_WATER_FILE_BYTES,
  type FileDataMessage,
  type FileEndMessage,
  type OutgoingMessage,
} from '../protocol/index.js';
import { SourceFileError } from '../transfer/errors.js';
import { printablePath } from '../base/printable.js';
import { PeerError } from './errors.js';

export interface FileRequestOptions {
  folder: string;
  path: string;
  hash: string;
  size: number;
  offset: number;
  /** Awaited per chunk before the next one is delivered. */
  onData: (chunk: Uint8Array) => Promise<void>;
}

export interface FileReceivingChannel {
  readonly peerLabel: string;
  send(message: OutgoingMessage): void;
  pauseReading(): void;
  resumeReading(): void;
  fail(error: ProtocolError): void;
}

interface Receiving {
  options: FileRequestOptions;
  next: number;
  /** Chunks are written one after another. */
  tail: Promise<void>;
  failed?: unknown;
  resolve(result: { hash?: string }): void;
  reject(error: unknown): void;
}

const SOURCE_FILE_CODES: Record<string, SourceFileError['reason']> = {
  E_FILE_CHANGED: 'changed',
  E_FILE_NOT_FOUND: 'not-found',
  E_FILE_REFUSED: 'refused',
  E_FILE_UNREADABLE: 'unreadable',
};

export class FileReceiving {
  private readonly active = new Map<number, Receiving>();
  /** Requests we cancelled: their late frames are dropped until the server's error arrives. */
  private readonly dropping = new Set<number>();
  private readonly slotWaiters: Array<() => void> = [];
  private queuedBytes = 0;
  private paused = false;
  private closedWith: SynkerError | undefined;

  constructor(
    private readonly channel: FileReceivingChannel,
    private readonly nextReq: () => number,
  ) {}

  /** File requests sent and not yet ended: each waits on the peer. */
  get running(): number {
    return this.active.size;
  }

  owns(req: number): boolean {
    return this.active.has(req) || this.dropping.has(req);
  }

  async request(options: FileRequestOptions): Promise<{ hash?: string }> {
    while (this.active.size >= LIMITS.filesInFlight && this.closedWith === undefined) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    if (this.closedWith !== undefined) throw this.closedWith;
    const req = this.nextReq();
    return new Promise<{ hash?: string }>((resolve, reject) => {
      const settle = (): void => {
        this.active.delete(req);
        this.slotWaiters.shift()?.();
      };
      this.active.set(req, {
        options,
        next: options.offset,
        tail: Promise.resolve(),
        resolve: (r) => {
          settle();
          resolve(r);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      const { folder, path, hash, size, offset } = options;
      this.channel.send({ kind: 'fileRequest', req, folder, path, hash, size, offset });
    });
  }

  onData(message: FileDataMessage): void {
    if (this.dropping.has(message.req)) return;
    const r = this.expect(message.req, 'file-data');
    if (r === undefined) return;
    const { data } = message;
    if (message.offset !== r.next) {
      this.channel.fail(
        new ProtocolError(
          'E_MALFORMED',
          `${this.channel.peerLabel} sent ${printablePath(r.options.path)} bytes at offset ${message.offset}, expected ${r.next}`,
        ),
      );
      return;
    }
    if (r.next + data.length > r.options.size) {
      this.channel.fail(
        new ProtocolError(
          'E_LIMIT',
          `${this.channel.peerLabel} sent more than the ${r.options.size} bytes of ${printablePath(r.options.path)}`,
        ),
      );
      return;
    }
    r.next += data.length;
    this.queue(data.length);
    r.tail = r.tail.then(async () => {
      try {
        if (r.failed === undefined) await r.options.onData(data);
      } catch (err) {
        if (r.failed === undefined) {
          r.failed = err;
          // Stop the transfer: our side cannot use the rest.
          this.dropping.add(message.req);
          this.channel.send({ kind: 'cancel', req: message.req });
          r.reject(err);
        }
      } finally {
        this.unqueue(data.length);
      }
    });
  }

  onEnd(message: FileEndMessage): void {
    // A transfer we cancelled may have ended before the server saw the cancel: then no error follows.
    if (this.dropping.delete(message.req)) return;
    const r = this.expect(message.req, 'file-end');
    if (r === undefined) return;
    if (message.size !== r.options.size || r.next !== r.options.size) {
      this.channel.fail(
        new ProtocolError(
          'E_MALFORMED',
          `${this.channel.peerLabel} ended ${printablePath(r.options.path)} after ${r.next} of ${r.options.size} bytes (announcing ${message.size})`,
        ),
      );
      return;
    }
    void r.tail.then(() => {
      if (r.failed === undefined) r.resolve(message.hash === undefined ? {} : { hash: message.hash });
    });
  }

  /** An `error` frame for one of our requests. */
  onError(req: number, code: string, text: string, hint: string | undefined): void {
    if (this.dropping.delete(req)) return;
    const r = this.active.get(req);
    if (r === undefined) return;
    const reason = SOURCE_FILE_CODES[code];
    // The source's words, escaped like every text a peer sends (errors.ts).
    text = printablePath(text);
    const error =
      reason !== undefined
        ? // The source's words name the file again ("nas: photo.jpg: changed ..."): once is enough.
          new SourceFileError(r.options.path, reason, text.replace(`${printablePath(r.options.path)}: `, ''))
        : new PeerError(code, text, { remote: true, ...(hint === undefined ? {} : { hint }) });
    void r.tail.then(() => r.reject(error));
  }

  onClose(error: SynkerError): void {
    this.closedWith = error;
    for (const r of this.active.values()) void r.tail.then(() => r.reject(error));
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private expect(req: number, what: string): Receiving | undefined {
    const r = this.active.get(req);
    if (r === undefined)
      this.channel.fail(
        new ProtocolError(
          'E_UNEXPECTED_MESSAGE',
          `${this.channel.peerLabel} sent ${what} for request ${req}, which is not a running file request`,
        ),
      );
    return r;
  }

  private queue(bytes: number): void {
    this.queuedBytes += bytes;
    if (!this.paused && this.queuedBytes > RECEIVE_HIGH_WATER_FILE_BYTES) {
      this.paused = true;
      this.channel.pauseReading();
    }
  }

  private unqueue(bytes: number): void {
    this.queuedBytes -= bytes;
    if (this.paused && this.queuedBytes <= RECEIVE_HIGH_WATER_FILE_BYTES / 2) {
      this.paused = false;
      this.channel.resumeReading();
    }
  }
}
