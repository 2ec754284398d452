/**
 * The server's half of file transfer (docs/protocol.md section 6): serves
 * `file-request`s from the manifest this session sent, several at a time,
 * in `file-data` chunks paced by the socket, then `file-end` (with the hash
 * computed while reading only for a client that asks for it: see
 * hashWhileSending). Only regular files of that manifest, under the
 * folder root, reached without symlinks, with the requested hash: anything
 * else gets an `error` for that request and the session goes on.
 */
import { printablePath } from '../base/printable.js';
import type { FolderConfig } from '../config/types.js';
import { errnoCode, SynkerError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import {
  encodeFileDataInHeadroom,
  FILE_DATA_HEADROOM,
  LIMITS,
  ProtocolError,
  type FileRequestMessage,
  type OutgoingMessage,
} from '../protocol/index.js';
import { SourceFileError } from '../transfer/errors.js';
import { ServedManifestIndex } from '../transfer/served-index.js';
import { serveFileRequest } from '../transfer/serve-file.js';
import { truncate } from './connection.js';
import { folderNotFound } from './folder-not-found.js';
import { PeerError } from './errors.js';
import { formatBytes, plural } from '../base/units.js';

/** What file serving needs from its session's connection. */
export interface FileServingChannel {
  readonly peerLabel: string;
  readonly isOpen: boolean;
  send(message: OutgoingMessage): void;
  sendPacedFrame(frame: Buffer): Promise<void>;
  fail(error: SynkerError): void;
}

export class FileServing {
  /** Per folder: the files of the manifest most recently sent in this session. */
  private readonly served = new Map<string, ServedManifestIndex>();
  private readonly running = new Map<number, AbortController>();
  /** Bytes of file content sent in this session. */
  bytesSent = 0;
  /** Files sent to the end in this session. */
  filesSent = 0;
  /**
   * Hash each file while sending it and put the hash in `file-end`: only for
   * a client that does not announce FEATURE_UNHASHED_FILE_END (the client
   * checks the manifest's hash itself; a second SHA-256 here only costs CPU).
   */
  hashWhileSending = true;

  constructor(
    private readonly channel: FileServingChannel,
    private readonly agentName: () => string,
    private readonly log: Logger,
    /** The asking device (known once its hello is in: file requests come after it). */
    private readonly peerDeviceId: () => string,
  ) {}

  /** A fresh index for a manifest about to be streamed; the session adds each entry it sends. */
  beginManifest(folderId: string): ServedManifestIndex {
    const index = new ServedManifestIndex();
    this.served.set(folderId, index);
    return index;
  }

  /** `folder` is the folder if it exists and is shared with the peer, else undefined. */
  onRequest(message: FileRequestMessage, folder: FolderConfig | undefined): void {
    const { req } = message;
    if (this.running.has(req)) {
      this.channel.fail(
        new ProtocolError('E_UNEXPECTED_MESSAGE', `unexpected message: file-request ${req} while request ${req} is running`),
      );
      return;
    }
    if (this.running.size >= LIMITS.filesInFlight) {
      this.channel.fail(new ProtocolError('E_LIMIT', `more than ${LIMITS.filesInFlight} file requests at once`));
      return;
    }
    const name = this.agentName();
    if (folder === undefined) {
      this.channel.send(folderNotFound(req, message.folder, name, this.peerDeviceId()));
      return;
    }
    const index = this.served.get(folder.id);
    if (index === undefined) {
      this.channel.send({
        kind: 'error',
        req,
        code: 'E_FILE_NOT_IN_MANIFEST',
        message: `${name} serves files only from a manifest of "${folder.id}" it sent in this session for fetching files; none was requested`,
        hint: "Request the folder's manifest first, in the same session, with { files: true }.",
      });
      return;
    }
    const abort = new AbortController();
    this.running.set(req, abort);
    void this.serve(message, folder, index, abort.signal).finally(() => this.running.delete(req));
  }

  /** The client cancelled a request; true when it was a file request of ours. */
  onCancel(req: number): boolean {
    const abort = this.running.get(req);
    if (abort === undefined) return false;
    abort.abort(new PeerError('E_CANCELLED', 'cancelled by the client'));
    return true;
  }

  /** The session ended: stop every transfer, and say what was sent. */
  abortAll(reason: unknown): void {
    for (const abort of this.running.values()) abort.abort(reason);
    if (this.bytesSent > 0)
      this.log.info(`sent ${plural(this.filesSent, 'file')} (${formatBytes(this.bytesSent)}) to ${this.channel.peerLabel}`);
  }

  private async serve(message: FileRequestMessage, folder: FolderConfig, index: ServedManifestIndex, signal: AbortSignal): Promise<void> {
    const { req } = message;
    let offset = message.offset;
    try {
      const { hash, bytesSent } = await serveFileRequest(
        folder.path,
        (p) => index.lookup(p),
        { path: message.path, hash: message.hash, size: message.size, offset: message.offset },
        async (chunk) => {
          signal.throwIfAborted();
          await this.channel.sendPacedFrame(encodeFileDataInHeadroom(req, offset, chunk));
          offset += chunk.length;
          this.bytesSent += chunk.length;
        },
        { chunkBytes: LIMITS.fileDataBytes, hash: this.hashWhileSending, headroom: FILE_DATA_HEADROOM },
      );
      signal.throwIfAborted();
      this.channel.send({ kind: 'fileEnd', req, size: message.size, ...(hash === undefined ? {} : { hash }) });
      this.filesSent++;
      // One line per file only when debugging: a sync of 100,000 files must not flood the agent's log.
      // Paths are names from disk, or the client's words: escaped (base/printable.ts), like every line quoting them.
      this.log.debug(
        printablePath(
          `sent ${message.folder}/${message.path} to ${this.channel.peerLabel}: ${bytesSent} bytes from offset ${message.offset}`,
        ),
      );
    } catch (err) {
      if (!this.channel.isOpen) return;
      if (signal.aborted) {
        this.channel.send({ kind: 'error', req, code: 'E_CANCELLED', message: 'the request was cancelled' });
        return;
      }
      if (err instanceof SourceFileError) {
        this.log.info(
          printablePath(`refused ${message.folder}/${message.path.slice(0, 200)} to ${this.channel.peerLabel}: ${err.message}`),
        );
        this.channel.send({
          kind: 'error',
          req,
          code: `E_FILE_${err.reason.toUpperCase().replace('-', '_')}`,
          message: truncate(`${this.agentName()}: ${err.message}`, LIMITS.errorMessageBytes),
          ...(err.hint === undefined ? {} : { hint: truncate(err.hint, LIMITS.errorHintBytes) }),
        });
        return;
      }
      const errno = errnoCode(err);
      if (errno !== undefined) {
        this.log.warn(printablePath(`could not read ${message.folder}/${message.path}: ${(err as Error).message}`));
        this.channel.send({
          kind: 'error',
          req,
          code: 'E_FILE_UNREADABLE',
          message: truncate(`${this.agentName()}: ${message.path} could not be read (${errno})`, LIMITS.errorMessageBytes),
        });
        return;
      }
      if (err instanceof SynkerError) {
        this.channel.send({
          kind: 'error',
          req,
          code: /^[A-Z0-9_]{1,64}$/.test(err.code) ? err.code : 'E_INTERNAL',
          message: truncate(err.message, LIMITS.errorMessageBytes),
        });
        return;
      }
      this.log.error(
        `internal error (please report it) while sending ${printablePath(`${message.folder}/${message.path}`)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      this.channel.send({
        kind: 'error',
        req,
        code: 'E_INTERNAL',
        message: `${this.agentName()} failed while reading a file; its log has the details`,
      });
    }
  }
}
