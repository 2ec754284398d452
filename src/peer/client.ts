/**
 * The client API used by check, sync and discovery: connect to an agent at
 * host:port, pin its device ID, exchange hellos (connect.ts), then stream
 * manifests and fetch files through the session (this file).
 *
 *   const session = await connectToPeer({ host, port, identity, expectDeviceId });
 *   const manifest = session.requestManifest('photos');
 *   const { ignoreRules } = await manifest.info;
 *   for await (const entry of manifest) ...;   // throws unless complete
 *   await session.close();
 *
 * Longer than 300 lines: the session routes every server message to the
 * request it answers, and that routing is read as one; what each kind of
 * request keeps (manifest streams, files being received, verified records
 * asked for) already lives in its own file.
 */
import { shortDeviceId } from '../identity/device-id.js';
import { printablePath } from '../base/printable.js';
import type { Identity } from '../identity/identity.js';
import type { SynkerError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import {
  FEATURE_BACKUP_VERDICT,
  FEATURE_FILE_DATA,
  FEATURE_VERIFIED_RECORDS,
  PROTOCOL_VERSION,
  ProtocolError,
  wireName,
  type Message,
  type VerifiedRecordAnswer,
} from '../protocol/index.js';
import type { Connection } from './connection.js';
import { PeerError } from './errors.js';
import { FileReceiving, type FileRequestOptions } from './file-receiving.js';
import { ClientManifestStream, type ManifestStream } from './manifest-stream.js';
import { SOFTWARE } from './server-session.js';
import { VerifiedAsking } from './verified-asking.js';
import { VerdictTelling, type BackupVerdict } from './verdict-telling.js';
import type { SessionTimeouts } from './timeouts.js';

export type { ManifestStream, ManifestInfo } from './manifest-stream.js';
export type { FileRequestOptions } from './file-receiving.js';
export type { BackupVerdict } from './verdict-telling.js';

export interface ConnectOptions {
  host: string;
  port: number;
  identity: Identity;
  /** The device we mean to reach; any other certificate aborts the connection. */
  expectDeviceId: string;
  /** The name this device announces (default: the host name). */
  name?: string;
  /**
   * The name this device trusts the peer as, for messages ("laptop" rather
   * than the "src" it announces): the user knows it by that name. Default:
   * the name the peer announces.
   */
  expectName?: string | undefined;
  /** Aborts connecting and, once connected, the session (running requests fail with E_ABORTED). */
  signal?: AbortSignal | undefined;
  timeouts?: Partial<import('./timeouts.js').SessionTimeouts>;
  logger?: Logger;
}

/** The server as its hello announced it; `name` and `software` escaped (base/printable.ts), as every peer's text is kept. */
export interface RemoteAgent {
  name: string;
  deviceId: string;
  software: string;
  features: string[];
  host: string;
  port: number;
}

export interface ManifestRequestOptions {
  /**
   * Set when files of this manifest will be fetched (sync, restore): the
   * peer then keeps an index of the files it sent, so it serves exactly
   * those. Without it (a check) the peer streams in bounded memory and
   * refuses file requests for the folder.
   */
  files?: boolean;
  /** Ask the peer to re-hash every file, bypassing its hash cache (needs its `scan-options` feature). */
  verify?: boolean;
  /** false: ask the peer not to hash at all (size-only). */
  hash?: boolean;
}

export interface PeerSession {
  readonly remote: RemoteAgent;
  /**
   * Ask for a folder's manifest. Requests run one after another in a
   * session; iterate each stream to its end (or break out of it) before the
   * next one starts.
   */
  requestManifest(folderId: string, options?: ManifestRequestOptions): ManifestStream;
  /**
   * Fetch one file of a folder whose manifest was requested earlier in this
   * session, from `offset` to its end; `onData` gets the chunks in order
   * (the next one waits for it). Resolves with the SHA-256 the peer computed
   * while reading, if it sent one (this version's server does not). Several may run at once. A file the peer cannot serve
   * rejects with SourceFileError; a session failure with PeerError.
   */
  requestFile(options: FileRequestOptions): Promise<{ hash?: string }>;
  /**
   * The hashes a backup last verified as matching the source, for these
   * paths of a folder it holds as a backup (null: no record), in order; any
   * number of paths (asked in batches). Needs the peer's `verified-records`
   * feature (E_UNSUPPORTED without it).
   */
  requestVerified(folderId: string, paths: readonly string[]): Promise<Array<VerifiedRecordAnswer | null>>;
  /**
   * Tell the source what a check or sync of a folder it shares with this
   * device found; resolves when the source kept it. Returns false without
   * sending anything when the peer does not announce `backup-verdict` (an
   * older synker). A refusal rejects with the source's error (PeerError).
   */
  tellVerdict(verdict: BackupVerdict): Promise<boolean>;
  /** Close the session cleanly. */
  close(): Promise<void>;
  /** Resolves when the session is over, with the error that ended it, if any. */
  readonly ended: Promise<SynkerError | undefined>;
}

/** A session after the hello: routes the server's messages to the running requests. */
export class ClientSession implements PeerSession {
  remote!: RemoteAgent;
  readonly ended: Promise<SynkerError | undefined>;
  private endedResolve!: (error: SynkerError | undefined) => void;
  private nextReq = 1;
  private active: ClientManifestStream | undefined;
  private tail: Promise<void> = Promise.resolve();
  private closedWith: SynkerError | undefined;
  private closed = false;
  private readonly files: FileReceiving;
  private readonly verified: VerifiedAsking;
  private readonly verdicts: VerdictTelling;
  /** The highest `progress` counts of the running manifest request: a message that raises neither is no progress. */
  private progressHigh: { req: number; items: number; bytes: number } | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly options: ConnectOptions,
    timeouts: SessionTimeouts,
  ) {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void =>
        connection.terminate(new PeerError('E_ABORTED', `the session with ${connection.peerLabel} was aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      void this.ended.then(() => signal.removeEventListener('abort', onAbort));
    }
    this.files = new FileReceiving(connection, () => this.nextReq++);
    this.verified = new VerifiedAsking(connection, () => this.nextReq++, timeouts.idleTimeout);
    this.verdicts = new VerdictTelling(connection, () => this.nextReq++, timeouts.idleTimeout);
  }

  /** Check the server's hello; returns the reason to refuse it, if any. Every server is held to the stall clock. */
  acceptHello(message: Message): SynkerError | undefined {
    const where = `${this.options.host}:${this.options.port}`;
    if (message.kind === 'error') {
      return new PeerError(message.code, message.message, { remote: true, ...(message.hint === undefined ? {} : { hint: message.hint }) });
    }
    if (message.kind !== 'hello') {
      const error = new ProtocolError('E_UNEXPECTED_MESSAGE', `${where} sent ${wireName(message.kind)} before its hello`);
      this.connection.fail(error);
      return error;
    }
    if (message.version !== PROTOCOL_VERSION) {
      const error = new ProtocolError(
        'E_VERSION',
        `${printablePath(message.name)} (${printablePath(message.software)}) speaks protocol version ${message.version}; this device (${SOFTWARE}) speaks version ${PROTOCOL_VERSION}`,
        { hint: 'Install the same synker version on both devices.' },
      );
      this.connection.fail(error);
      return error;
    }
    if (message.deviceId !== this.options.expectDeviceId) {
      const error = new ProtocolError(
        'E_DEVICE_MISMATCH',
        `${where} announced device ${shortDeviceId(message.deviceId)} but presented the certificate of ${shortDeviceId(this.options.expectDeviceId)}`,
      );
      this.connection.fail(error);
      return error;
    }
    this.remote = {
      name: printablePath(message.name),
      deviceId: message.deviceId,
      software: printablePath(message.software),
      features: message.features,
      host: this.options.host,
      port: this.options.port,
    };
    this.connection.peerLabel = `${printablePath(this.options.expectName ?? message.name)} (${where})`;
    this.connection.acceptFullFrames();
    // Every server is held to the stall clock: one that leaves `progress` out of its hello only loses the
    // way to show a slow scan advancing (a hostile one would otherwise hang a check for ever).
    this.connection.watchProgress(() => this.active?.finished === false || this.files.running > 0);
    return undefined;
  }

  onMessage(message: Message): void {
    const stream = this.active;
    // Progress (stall clock): any message for a running request; a `progress` only when a count rises above the highest yet.
    const stale =
      message.kind === 'error' &&
      (message.req === undefined || !(this.files.owns(message.req) || this.verdicts.owns(message.req) || stream?.req === message.req));
    if (!stale && message.kind !== 'progress' && message.kind !== 'hello') this.connection.progressed();
    switch (message.kind) {
      case 'progress': {
        if (stream === undefined || stream.req !== message.req || stream.finished) return;
        const high = this.progressHigh?.req === message.req ? this.progressHigh : { req: message.req, items: -1, bytes: -1 };
        if (message.items <= high.items && message.bytes <= high.bytes) return;
        this.progressHigh = { req: message.req, items: Math.max(message.items, high.items), bytes: Math.max(message.bytes, high.bytes) };
        this.connection.progressed();
        return;
      }
      case 'error':
        if (message.req === undefined) {
          this.connection.endByPeer(
            new PeerError(message.code, `${printablePath(this.options.expectName ?? this.remote.name)}: ${message.message}`, {
              remote: true,
              ...(message.hint === undefined ? {} : { hint: message.hint }),
            }),
          );
        } else if (this.verdicts.owns(message.req)) {
          this.verdicts.onError(message.req, message.code, message.message, message.hint);
        } else if (this.verified.owns(message.req)) {
          this.verified.onError(message.req, message.code, message.message, message.hint);
        } else if (this.files.owns(message.req)) {
          this.files.onError(message.req, message.code, message.message, message.hint);
        } else if (stream !== undefined && stream.req === message.req) {
          stream.onError(
            new PeerError(message.code, message.message, { remote: true, ...(message.hint === undefined ? {} : { hint: message.hint }) }),
          );
        }
        // An error for a request that is no longer active (a cancel raced it) needs nothing.
        return;
      case 'manifestBegin':
        if (this.check(stream, message.req)) stream!.onBegin(message.folder, message.role, message.ignore, message.modes !== false);
        return;
      case 'manifestEntries':
        if (this.check(stream, message.req)) stream!.onEntries(message.entries);
        return;
      case 'manifestEnd':
        if (this.check(stream, message.req)) stream!.onEnd(message);
        return;
      case 'verifiedRecords':
        if (this.verified.owns(message.req)) this.verified.onRecords(message.req, message.records);
        else this.check(undefined, message.req);
        return;
      case 'backupVerdictAck':
        // An ack for a verdict given up on (its deadline passed) needs nothing.
        this.verdicts.onAck(message.req);
        return;
      case 'fileData':
        this.files.onData(message);
        return;
      case 'fileEnd':
        this.files.onEnd(message);
        return;
      default:
        this.connection.fail(
          new ProtocolError(
            'E_UNEXPECTED_MESSAGE',
            `${this.connection.peerLabel} sent ${wireName(message.kind)}, which a server never sends`,
          ),
        );
    }
  }

  private check(stream: ClientManifestStream | undefined, req: number): boolean {
    if (stream !== undefined && stream.req === req) return true;
    this.connection.fail(
      new ProtocolError('E_UNEXPECTED_MESSAGE', `${this.connection.peerLabel} sent data for request ${req}, which is not running`),
    );
    return false;
  }

  onClose(error: SynkerError | undefined): void {
    this.closed = true;
    this.closedWith = error ?? new PeerError('E_SESSION_CLOSED', `the session with ${this.connection.peerLabel} is closed`);
    const stream = this.active;
    if (stream !== undefined && !stream.finished) {
      // Say which manifest was cut short, so nobody mistakes it for a complete one.
      const cut =
        this.closedWith instanceof ProtocolError
          ? this.closedWith
          : new PeerError(this.closedWith.code, `${this.closedWith.message}, before the manifest of "${stream.folder}" was complete`, {
              cause: this.closedWith,
              ...(this.closedWith.hint === undefined ? {} : { hint: this.closedWith.hint }),
              remote: this.closedWith instanceof PeerError && this.closedWith.remote,
            });
      stream.onError(cut);
    }
    this.files.onClose(this.closedWith);
    this.verified.onClose(this.closedWith);
    this.verdicts.onClose(this.closedWith);
    this.endedResolve(error);
  }

  requestManifest(folderId: string, options: ManifestRequestOptions = {}): ManifestStream {
    const req = this.nextReq++;
    const connection = this.connection;
    const stream: ClientManifestStream = new ClientManifestStream(req, folderId, {
      get peerLabel() {
        return connection.peerLabel;
      },
      pauseReading: () => connection.pauseReading(),
      resumeReading: () => connection.resumeReading(),
      cancel: (r) => connection.send({ kind: 'cancel', req: r }),
      fail: (error) => connection.fail(error),
    });
    this.tail = this.tail.then(() => {
      if (this.closed) {
        stream.onError(this.closedWith);
        return;
      }
      this.active = stream;
      connection.send({
        kind: 'manifestRequest',
        req,
        folder: folderId,
        ...(options.files === true ? { files: true } : {}),
        ...(options.verify === true ? { verify: true } : {}),
        ...(options.hash === false ? { hash: false } : {}),
      });
      return stream.done.then(() => {
        if (this.active === stream) this.active = undefined;
      });
    });
    return stream;
  }

  async requestFile(options: FileRequestOptions): Promise<{ hash?: string }> {
    if (!this.remote.features.includes(FEATURE_FILE_DATA)) {
      throw new PeerError(
        'E_UNSUPPORTED',
        `${this.remote.name} (${this.remote.software}) cannot send files: it does not speak the file-data part of the protocol`,
        {
          hint: `Update synker on ${this.remote.name}.`,
        },
      );
    }
    if (this.closed) throw this.closedWith;
    return this.files.request(options);
  }

  async requestVerified(folderId: string, paths: readonly string[]): Promise<Array<VerifiedRecordAnswer | null>> {
    if (!this.remote.features.includes(FEATURE_VERIFIED_RECORDS)) {
      throw new PeerError(
        'E_UNSUPPORTED',
        `${this.remote.name} (${this.remote.software}) cannot say which hashes it last verified (no verified-records feature)`,
        { hint: `Update synker on ${this.remote.name}.` },
      );
    }
    if (this.closed) throw this.closedWith;
    return this.verified.request(folderId, paths);
  }

  async tellVerdict(verdict: BackupVerdict): Promise<boolean> {
    if (!this.remote.features.includes(FEATURE_BACKUP_VERDICT)) return false;
    if (this.closed) throw this.closedWith;
    await this.verdicts.tell(verdict);
    return true;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
