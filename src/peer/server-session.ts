/**
 * One session on the agent's side: the hello checks (version, device ID
 * against the certificate, trust), then manifest requests one at a time,
 * streamed in batches at the pace the client reads them.
 *
 * Longer than 300 lines: one session's state (hello done, the request in
 * flight, the pace of the client) is read by every step; the parts that
 * stand alone (the agent's directory, file serving, the not-found answer)
 * already live in their own files.
 */
import type { Identity } from '../identity/identity.js';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { FolderConfig } from '../config/types.js';
import { SynkerError } from '../base/errors.js';
import { platformKeepsModes } from '../base/mode-bits.js';
import type { Logger } from '../base/log.js';
import type { ManifestEntry } from '../manifest/entry.js';
import {
  FEATURE_BACKUP_VERDICT,
  FEATURE_FILE_DATA,
  FEATURE_PROGRESS,
  FEATURE_UNHASHED_FILE_END,
  FEATURE_SCAN_OPTIONS,
  FEATURE_VERIFIED_RECORDS,
  LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  addToTotals,
  emptyTotals,
  estimateWireBytes,
  type BackupVerdictMessage,
  type HelloMessage,
  type Message,
  type OutgoingMessage,
  wireName,
} from '../protocol/index.js';
import { SYNKER_VERSION } from '../base/version.js';
import { printablePath, printableQuote } from '../base/printable.js';
import type {
  AgentDirectory,
  BackupVerdictSink,
  ManifestScanRequest,
  ManifestSource,
  UntrustedAttempt,
  VerifiedRecordsSource,
} from './agent-directory.js';
import type { Connection } from './connection.js';
import { truncate } from './connection.js';
import { PeerError } from './errors.js';
import { FileServing } from './file-serving.js';
import { folderNotFound } from './folder-not-found.js';
import type { QuietLog } from './quiet-log.js';
import type { SessionTimeouts } from './timeouts.js';

export interface ServerSessionContext {
  certDeviceId: string | undefined;
  address: string;
  identity: Identity;
  directory: AgentDirectory;
  manifestSource: ManifestSource;
  verifiedRecords: VerifiedRecordsSource | undefined;
  backupVerdicts: BackupVerdictSink | undefined;
  onUntrustedDevice: ((attempt: UntrustedAttempt) => void) | undefined;
  timeouts: SessionTimeouts;
  log: Logger;
  quiet: QuietLog;
  onEnd: () => void;
}

export const SOFTWARE = `synker ${SYNKER_VERSION}`;

export class ServerSession {
  private state: 'hello' | 'ready' | 'over' = 'hello';
  private peerId: string | undefined;
  private running: { req: number; abort: AbortController; cancelled: boolean } | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly files: FileServing;
  /** The client announced `progress`: it is told how a manifest request's scan advances (and holds us to it). */
  private sendsProgress = false;
  /** A backup-verdict being kept: one at a time per session (each is a locked write on this machine). */
  private keepingVerdict = false;

  constructor(
    private readonly connection: Connection,
    private readonly ctx: ServerSessionContext,
  ) {
    this.files = new FileServing(
      connection,
      () => ctx.directory.agentName(),
      ctx.log,
      () => this.peerId!,
    );
  }

  start(): void {
    const { connection, ctx } = this;
    connection.start({
      onMessage: (message) => this.onMessage(message),
      onClose: (error) => this.onClose(error),
    });
    if (ctx.certDeviceId === undefined) {
      connection.fail(
        new ProtocolError('E_NO_CERTIFICATE', `${this.name()} requires a device certificate; none was presented`, {
          hint: "Connect with synker, which presents this device's certificate.",
        }),
      );
      return;
    }
    this.helloTimer = setTimeout(() => {
      if (this.state !== 'hello') return;
      ctx.quiet.warn(
        `hello:${ctx.address}`,
        `closing a connection from ${ctx.address}: no hello within ${ctx.timeouts.handshakeTimeout} ms`,
      );
      connection.fail(
        new PeerError('E_HANDSHAKE_TIMEOUT', `no hello within ${ctx.timeouts.handshakeTimeout} ms`, { hint: 'Connect with synker.' }),
      );
    }, ctx.timeouts.handshakeTimeout);
    this.helloTimer.unref();
  }

  /** End the session because the agent is stopping; resolves when the socket is closed. */
  async shutdown(): Promise<void> {
    this.connection.fail(new PeerError('E_SHUTTING_DOWN', `${this.name()} is stopping`, { hint: 'Try again when the agent runs again.' }));
    await this.connection.whenClosed();
  }

  private name(): string {
    return this.ctx.directory.agentName();
  }

  private onClose(error: SynkerError | undefined): void {
    this.state = 'over';
    clearTimeout(this.helloTimer);
    this.running?.abort.abort(error ?? new PeerError('E_SESSION_CLOSED', 'the session closed'));
    this.files.abortAll(error ?? new PeerError('E_SESSION_CLOSED', 'the session closed'));
    if (error !== undefined && this.peerId !== undefined && error.code !== 'E_SHUTTING_DOWN') {
      this.ctx.log.debug(`session with ${this.connection.peerLabel} ended: ${error.message}`);
    }
    this.ctx.onEnd();
  }

  private onMessage(message: Message): void {
    if (this.state === 'hello') {
      if (message.kind === 'hello') this.onHello(message);
      else if (message.kind === 'error') this.onPeerError(message.code, message.message);
      else this.unexpected(`${wireName(message.kind)} before hello`);
      return;
    }
    if (this.state !== 'ready') return;
    switch (message.kind) {
      case 'manifestRequest':
        if (this.running !== undefined) {
          this.unexpected('a second manifest-request while one is running (version 1 serves one at a time)');
          return;
        }
        void this.serveManifest(message.req, message.folder, message.files === true, {
          verify: message.verify === true,
          hash: message.hash !== false,
        });
        return;
      case 'fileRequest':
        this.files.onRequest(message, this.sharedFolder(message.folder));
        return;
      case 'verifiedRequest':
        this.answerVerified(message.req, message.folder, message.paths);
        return;
      case 'backupVerdict':
        void this.keepVerdict(message);
        return;
      case 'cancel':
        if (this.files.onCancel(message.req)) return;
        // A cancel for a request that already ended is normal (it crossed the end marker).
        if (this.running !== undefined && this.running.req === message.req) {
          this.running.cancelled = true;
          this.running.abort.abort(new PeerError('E_CANCELLED', 'cancelled by the client'));
        }
        return;
      case 'error':
        if (message.req === undefined) this.onPeerError(message.code, message.message);
        return;
      default:
        this.unexpected(`${wireName(message.kind)} from a client`);
    }
  }

  private onHello(hello: HelloMessage): void {
    const { ctx, connection } = this;
    const name = this.name();
    clearTimeout(this.helloTimer);
    // The peer chose its name and software: escaped wherever they are shown (logs, messages), never raw.
    const peerName = printablePath(hello.name);
    const software = printablePath(hello.software);
    if (hello.version !== PROTOCOL_VERSION) {
      const text = `${name} (${SOFTWARE}) speaks protocol version ${PROTOCOL_VERSION}; ${peerName} (${software}) sent version ${hello.version}`;
      ctx.quiet.warn(`version:${ctx.address}`, `refused ${peerName} at ${ctx.address}: ${text}`);
      connection.fail(new ProtocolError('E_VERSION', text, { hint: 'Install the same synker version on both devices.' }));
      return;
    }
    if (hello.deviceId !== ctx.certDeviceId) {
      const text = `${peerName} at ${ctx.address} announced device ID ${shortDeviceId(hello.deviceId)} but presented the certificate of ${shortDeviceId(ctx.certDeviceId!)}`;
      ctx.quiet.warn(`mismatch:${ctx.address}`, `refused: ${text}`);
      connection.fail(
        new ProtocolError('E_DEVICE_MISMATCH', text, { hint: 'The other device is misconfigured or impersonating another one.' }),
      );
      return;
    }
    connection.peerLabel = `${peerName} (${ctx.address})`;
    const trusted = ctx.directory.trusted(hello.deviceId);
    if (trusted === undefined) {
      const id = formatDeviceId(hello.deviceId);
      // Keyed by address: a device ID costs a new self-signed certificate, an address does not come that cheap.
      ctx.quiet.warn(
        `untrusted:${ctx.address}`,
        `refused ${peerName} at ${ctx.address}: device ${id} is not trusted; run \`synker trust ${id}\` to allow it`,
      );
      try {
        ctx.onUntrustedDevice?.({ deviceId: hello.deviceId, name: hello.name, address: ctx.address, at: new Date() });
      } catch (err) {
        ctx.log.error(`could not record the pairing attempt from ${id}`, err);
      }
      const fix = `run \`synker trust ${id}\` on ${name}`;
      connection.fail(
        new ProtocolError('E_UNTRUSTED', `${name} does not trust this device (${id}); to allow it, ${fix}`, {
          hint: `To allow this device, ${fix}.`,
        }),
      );
      return;
    }
    this.peerId = hello.deviceId;
    this.state = 'ready';
    connection.acceptFullFrames();
    // A client from before unhashed file-ends requires the hash: hash for it as before.
    this.files.hashWhileSending = !hello.features.includes(FEATURE_UNHASHED_FILE_END);
    this.sendsProgress = hello.features.includes(FEATURE_PROGRESS);
    connection.send({
      kind: 'hello',
      name,
      deviceId: ctx.identity.deviceId,
      software: SOFTWARE,
      features: [
        FEATURE_FILE_DATA,
        FEATURE_SCAN_OPTIONS,
        FEATURE_PROGRESS,
        ...(ctx.verifiedRecords === undefined ? [] : [FEATURE_VERIFIED_RECORDS]),
        ...(ctx.backupVerdicts === undefined ? [] : [FEATURE_BACKUP_VERDICT]),
      ],
    });
    ctx.log.debug(`session with ${trusted.name ?? peerName} (${ctx.address}) open`);
  }

  private onPeerError(code: string, text: string): void {
    // Before the hello anyone can send this: rate-limited per address, and quoted in a few dozen characters.
    this.ctx.quiet.warn(`error:${this.ctx.address}`, `${this.connection.peerLabel} ended the session: ${code} ${printableQuote(text)}`);
    this.connection.endByPeer(new PeerError(code, printablePath(text), { remote: true }));
  }

  private unexpected(what: string): void {
    this.connection.fail(new ProtocolError('E_UNEXPECTED_MESSAGE', `unexpected message: ${what}`));
  }

  private send(message: OutgoingMessage): void {
    this.connection.send(message);
  }

  /** The last verified records of a backup folder shared with the peer (a restore's verified-request). */
  private answerVerified(req: number, folderId: string, paths: string[]): void {
    const folder = this.sharedFolder(folderId);
    if (folder === undefined) {
      this.send(folderNotFound(req, folderId, this.name(), this.peerId!));
      return;
    }
    const source = this.ctx.verifiedRecords;
    if (source === undefined || folder.role !== 'backup') {
      this.send({
        kind: 'error',
        req,
        code: 'E_UNSUPPORTED',
        message: `${this.name()} keeps no verified hashes for folder "${folder.id}": it holds it as a ${folder.role}`,
      });
      return;
    }
    try {
      this.send({ kind: 'verifiedRecords', req, records: source(folder, paths) });
    } catch (err) {
      this.ctx.log.warn(`could not read the verified hashes of folder "${folder.id}" for ${this.connection.peerLabel}`, err as Error);
      this.send({
        kind: 'error',
        req,
        code: err instanceof SynkerError && /^[A-Z0-9_]{1,64}$/.test(err.code) ? err.code : 'E_FOLDER_UNAVAILABLE',
        message: `${this.name()} could not read the verified hashes of folder "${folder.id}"; its log has the details`,
      });
    }
  }

  /**
   * What a backup found, kept for `synker status` here: only from a device
   * still trusted, for a folder this agent holds as the source and shares
   * with it. Anything else is refused with a typed error, logged (escaped)
   * and never kept. The device is the session's pinned one.
   */
  private async keepVerdict(message: BackupVerdictMessage): Promise<void> {
    const { req, kind: _kind, ...verdict } = message;
    const deviceId = this.peerId!;
    // Named as this machine trusts it; rate-limited per device and refusal (a trusted device is no cheap identity).
    const who = (): string =>
      `${printablePath(this.ctx.directory.trusted(deviceId)?.name ?? this.connection.peerLabel)} (${this.ctx.address})`;
    const logRefusal = (code: string, text: string): void =>
      this.ctx.quiet.warn(
        `verdict:${code}:${deviceId}`,
        `refused the verdict of ${who()} on folder ${printableQuote(message.folder)}: ${text}`,
      );
    const refuse = (code: string, text: string, hint?: string): void => {
      logRefusal(code, text);
      this.send({
        kind: 'error',
        req,
        code,
        message: truncate(`${this.name()}: ${text}`, LIMITS.errorMessageBytes),
        ...(hint === undefined ? {} : { hint }),
      });
    };
    const sink = this.ctx.backupVerdicts;
    if (sink === undefined) {
      refuse('E_UNSUPPORTED', 'this agent keeps no verdicts of its backups');
      return;
    }
    if (this.keepingVerdict) {
      refuse('E_LIMIT', 'a verdict of this session is still being kept (one at a time)');
      return;
    }
    // Trust may have been withdrawn since the hello.
    if (this.ctx.directory.trusted(deviceId) === undefined) {
      refuse('E_UNTRUSTED', `device ${formatDeviceId(deviceId)} is no longer trusted`);
      return;
    }
    const folder = this.sharedFolder(message.folder);
    if (folder === undefined) {
      // The same answer as for a folder that does not exist: a device learns no folder it is not shared.
      logRefusal('E_FOLDER_NOT_FOUND', 'no such folder is shared with it');
      this.send(folderNotFound(req, message.folder, this.name(), deviceId));
      return;
    }
    if (folder.role !== 'source') {
      refuse(
        'E_VERDICT_NOT_SOURCE',
        `folder "${folder.id}" is a backup here, not the source: only a source keeps what its backups verified`,
        `Check which machine holds the originals of "${folder.id}"; a backup checks against the source.`,
      );
      return;
    }
    this.keepingVerdict = true;
    try {
      await sink(folder, deviceId, verdict);
      if (this.connection.isOpen) this.send({ kind: 'backupVerdictAck', req });
    } catch (err) {
      this.ctx.log.warn(`could not keep the verdict of ${this.connection.peerLabel} on folder "${folder.id}"`, err as Error);
      if (this.connection.isOpen)
        this.send({
          kind: 'error',
          req,
          code: err instanceof SynkerError && /^[A-Z0-9_]{1,64}$/.test(err.code) ? err.code : 'E_INTERNAL',
          message: `${this.name()} could not keep the verdict on folder "${folder.id}"; its log has the details`,
        });
    } finally {
      this.keepingVerdict = false;
    }
  }

  /** The folder if it exists and is shared with the peer; a folder not shared is as good as absent. */
  private sharedFolder(folderId: string): FolderConfig | undefined {
    return this.ctx.directory.folders().find((f) => f.id === folderId && f.shareWith.includes(this.peerId!));
  }

  private async serveManifest(req: number, folderId: string, forFiles: boolean, scan: ManifestScanRequest): Promise<void> {
    const { ctx, connection } = this;
    const name = this.name();
    // A folder not shared with this device answers exactly like a folder that does not exist.
    const folder = this.sharedFolder(folderId);
    if (folder === undefined) {
      this.send(folderNotFound(req, folderId, name, this.peerId!));
      return;
    }
    const running = { req, abort: new AbortController(), cancelled: false };
    this.running = running;
    let progressTimer: NodeJS.Timeout | undefined;
    try {
      const manifest = await ctx.manifestSource(folder, running.abort.signal, scan);
      running.abort.signal.throwIfAborted();
      if (this.sendsProgress && manifest.progress !== undefined) progressTimer = this.tellProgress(req, manifest.progress);
      const ignore = ignoreLines(manifest.ignoreRules, folder.id);
      // Windows has no POSIX modes: say so, so the other side neither compares nor applies made-up ones.
      this.send({
        kind: 'manifestBegin',
        req,
        folder: folder.id,
        role: folder.role,
        ignore,
        ...(platformKeepsModes() ? {} : { modes: false as const }),
      });
      const totals = emptyTotals();
      // The index of served files costs memory: only for a client that said it will fetch files.
      const served = forFiles ? this.files.beginManifest(folder.id) : undefined;
      let batch: ManifestEntry[] = [];
      let batchBytes = 0;
      for await (const entry of manifest.entries) {
        running.abort.signal.throwIfAborted();
        batch.push(entry);
        batchBytes += estimateWireBytes(entry);
        addToTotals(totals, entry);
        served?.add(entry);
        if (batch.length >= LIMITS.batchEntries || batchBytes >= LIMITS.batchTargetBytes) {
          await connection.sendPaced({ kind: 'manifestEntries', req, entries: batch });
          batch = [];
          batchBytes = 0;
        }
      }
      running.abort.signal.throwIfAborted();
      if (batch.length > 0) await connection.sendPaced({ kind: 'manifestEntries', req, entries: batch });
      this.send({ kind: 'manifestEnd', req, ...totals });
    } catch (err) {
      if (!connection.isOpen) return;
      if (running.cancelled) {
        this.send({ kind: 'error', req, code: 'E_CANCELLED', message: 'the request was cancelled' });
        return;
      }
      if (err instanceof SynkerError) {
        ctx.log.warn(`could not serve folder "${folder.id}" to ${connection.peerLabel}: ${err.message}`);
        this.send({
          kind: 'error',
          req,
          code: /^[A-Z0-9_]{1,64}$/.test(err.code) ? err.code : 'E_FOLDER_UNAVAILABLE',
          message: truncate(`${name}: ${err.message}`, LIMITS.errorMessageBytes),
          ...(err.hint === undefined ? {} : { hint: truncate(err.hint, LIMITS.errorHintBytes) }),
        });
        return;
      }
      // A bug on this side: log it in full, tell the client in general terms, keep the agent running.
      ctx.log.error(
        `internal error (please report it) while serving folder "${folder.id}": ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      this.send({
        kind: 'error',
        req,
        code: 'E_INTERNAL',
        message: `${name} failed while reading folder "${folder.id}"; its log has the details`,
      });
    } finally {
      clearInterval(progressTimer);
      if (this.running === running) this.running = undefined;
    }
  }

  /**
   * Every progressInterval, while the scan's counts went up since the last
   * time: `progress {req, items, bytes}`. Entries may wait long in a batch, or
   * behind one large file hashing; this is what tells the client the scan
   * still advances. A scan stuck on its disk raises no count, sends nothing,
   * and the client's stall deadline ends the session.
   */
  private tellProgress(req: number, progress: () => { items: number; bytes: number }): NodeJS.Timeout {
    let last = progress();
    const timer = setInterval(() => {
      const now = progress();
      if (now.items <= last.items && now.bytes <= last.bytes) return;
      last = now;
      this.send({ kind: 'progress', req, items: now.items, bytes: now.bytes });
    }, this.ctx.timeouts.progressInterval);
    timer.unref();
    return timer;
  }
}

/** The ignore rules, refused (for this request) when over the protocol's caps rather than cut. */
function ignoreLines(lines: string[], folderId: string): string[] {
  const tooLong = lines.findIndex((line) => Buffer.byteLength(line, 'utf8') > LIMITS.ignoreLineBytes);
  if (lines.length > LIMITS.ignoreLines || tooLong !== -1) {
    throw new SynkerError(
      'E_LIMIT',
      tooLong !== -1
        ? `line ${tooLong + 1} of the .synkerignore of folder "${folderId}" is longer than ${LIMITS.ignoreLineBytes} bytes`
        : `the .synkerignore of folder "${folderId}" has ${lines.length} lines; at most ${LIMITS.ignoreLines} can be shared`,
      { hint: 'Shorten the .synkerignore file in that folder.' },
    );
  }
  return lines;
}
