/**
 * The messages of protocol version 1 in their domain form (what the rest of
 * synker handles). Their wire form is in encode.ts / decode.ts; the two are
 * kept apart so the wire can stay compact and stable while code evolves.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import type { FolderRole } from '../config/types.js';

export const MESSAGE_TYPES = {
  hello: 1,
  error: 2,
  manifestRequest: 3,
  manifestBegin: 4,
  manifestEntries: 5,
  manifestEnd: 6,
  cancel: 7,
  verifiedRequest: 8,
  verifiedRecords: 9,
  progress: 10,
  backupVerdict: 11,
  backupVerdictAck: 12,
  fileRequest: 16,
  fileData: 17,
  fileEnd: 18,
} as const;

/** Announced in `hello.features` by a peer that serves and understands types 16–18. */
export const FEATURE_FILE_DATA = 'file-data';
/** Announced in `hello.features` by a server that honours `verify` and `hash` in a manifest request. */
export const FEATURE_SCAN_OPTIONS = 'scan-options';
/**
 * Announced in `hello.features` by a client that checks every received file
 * against the manifest itself and accepts a `file-end` without `hash`: its
 * server does not hash what it sends. Clients that do not announce it get the
 * hash, computed over the whole file as before.
 */
export const FEATURE_UNHASHED_FILE_END = 'file-end-unhashed';

/**
 * Announced in `hello.features` by a server that answers `verified-request`
 * (types 8–9) for the folders it holds as a backup: the hashes it last
 * verified as matching the source, which a restore judges "which side
 * changed" against.
 */
export const FEATURE_VERIFIED_RECORDS = 'verified-records';

/**
 * Announced in `hello.features` by both sides of the `progress` message
 * (type 10): a client that understands it, a server that sends it while a
 * manifest request makes progress the client cannot see (a scan walking or
 * hashing before its next entries). A server sends it only to a client that
 * announced it. A client holds every server to the stall deadline; one that
 * does not send `progress` can show no slow scan advancing.
 */
export const FEATURE_PROGRESS = 'progress';

/** Announced by a server that keeps `backup-verdict`s (types 11–12); a backup tells only such a server. */
export const FEATURE_BACKUP_VERDICT = 'backup-verdict';

/** Who ran a check or sync, as a `backup-verdict` says it (the values of schedule/state.ts `VerifiedBy`). */
export const VERDICT_BY = ['scheduled-check', 'scheduled-sync', 'manual-check', 'manual-sync'] as const;
export type VerdictBy = (typeof VERDICT_BY)[number];

/** A message's name on the wire and in docs/protocol.md, for messages: `manifestRequest` is `manifest-request`. */
export function wireName(kind: string): string {
  return kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export interface HelloMessage {
  kind: 'hello';
  /** The sender's protocol version (from the frame envelope). */
  version: number;
  name: string;
  deviceId: string;
  software: string;
  features: string[];
}

export interface ErrorMessage {
  kind: 'error';
  version: number;
  code: string;
  message: string;
  hint?: string;
  /** Present: ends this request only. Absent: ends the session. */
  req?: number;
}

export interface ManifestRequestMessage {
  kind: 'manifestRequest';
  req: number;
  folder: string;
  /**
   * The client will fetch files of this manifest (sync, restore): only then
   * does the server keep an index of the files it sent, which costs memory
   * for the session's life; a plain check streams in bounded memory.
   */
  files?: boolean;
  /**
   * Re-hash every file, bypassing the server's hash cache (`check --verify`,
   * bit rot). Absent: false. Never together with `hash: false`.
   */
  verify?: boolean;
  /** false: read no file, send no hashes (`check --size-only`). Absent: true. */
  hash?: boolean;
}

export interface ManifestBeginMessage {
  kind: 'manifestBegin';
  req: number;
  folder: string;
  role: FolderRole;
  ignore: string[];
  /** false: the server's files have no POSIX permission bits (Windows); modes are then neither compared nor applied. Absent: true. */
  modes?: false;
}

export interface ManifestEntriesMessage {
  kind: 'manifestEntries';
  req: number;
  entries: ManifestEntry[];
}

export interface ManifestTotals {
  count: number;
  files: number;
  dirs: number;
  symlinks: number;
  errors: number;
  /** Sum of file sizes. */
  bytes: number;
}

export interface ManifestEndMessage extends ManifestTotals {
  kind: 'manifestEnd';
  req: number;
}

export interface CancelMessage {
  kind: 'cancel';
  req: number;
}

/** Ask a backup for the hashes it last verified as matching the source, for these paths (at most LIMITS.verifiedPaths). */
export interface VerifiedRequestMessage {
  kind: 'verifiedRequest';
  req: number;
  folder: string;
  /** Manifest paths (NFC keys). */
  paths: string[];
}

/** The last verified hash, size and mtime of a path, as a backup recorded it. */
export interface VerifiedRecordAnswer {
  hash: string;
  size: number;
  mtime: number;
}

/** The answer to a `verifiedRequest`: one item per path asked, in order; null where the backup has no record. */
export interface VerifiedRecordsMessage {
  kind: 'verifiedRecords';
  req: number;
  records: Array<VerifiedRecordAnswer | null>;
}

/**
 * The server's word that a manifest request advances although no entry is
 * ready yet: counts since the request began, of items the scan has looked
 * at and of bytes of file content it has read. A message that raises
 * neither is no progress.
 */
export interface ProgressMessage {
  kind: 'progress';
  req: number;
  items: number;
  bytes: number;
}

/**
 * A backup's word to its source after a check or sync: what it found. Which backup
 * says it is the session's pinned device ID, never a field. Answered by `backupVerdictAck` or an `error`.
 */
export interface BackupVerdictMessage {
  kind: 'backupVerdict';
  req: number;
  folder: string;
  /** When the check or sync finished: milliseconds since 1970 (UTC). */
  at: number;
  status: 'complete' | 'differences' | 'error';
  /** One line a person understands ("12 files missing (340 MiB)"), at most LIMITS.verdictSummaryBytes. */
  summary: string;
  /** Differences that make the backup incomplete (after a sync: those it left), and their bytes. */
  differences?: number;
  bytesMissing?: number;
  /** A sync: what it fixed. */
  fixed?: number;
  by: VerdictBy;
  /** Status `error`: the failure's code. */
  errorCode?: string;
}

/** The source kept a `backupVerdict`. */
export interface BackupVerdictAckMessage {
  kind: 'backupVerdictAck';
  req: number;
}

/** Ask for one file of a folder's manifest, from `offset` to its end (section 6). */
export interface FileRequestMessage {
  kind: 'fileRequest';
  req: number;
  folder: string;
  /** The manifest path (NFC key). */
  path: string;
  /** SHA-256 (hex) and size the requester's manifest lists: the server refuses a file that no longer has them. */
  hash: string;
  size: number;
  offset: number;
}

export interface FileDataMessage {
  kind: 'fileData';
  req: number;
  offset: number;
  data: Uint8Array;
}

export interface FileEndMessage {
  kind: 'fileEnd';
  req: number;
  size: number;
  /**
   * SHA-256 (hex) of the whole file as the server read it while sending, if
   * it hashed it (this version does not: the client's own check against the
   * manifest covers every byte). The client compares it when present.
   */
  hash?: string;
}

/** A frame of a type this version does not know; answered or ignored, never fatal by itself. */
export interface UnknownMessage {
  kind: 'unknown';
  type: number;
  req?: number;
}

export type Message =
  | HelloMessage
  | ErrorMessage
  | ManifestRequestMessage
  | ManifestBeginMessage
  | ManifestEntriesMessage
  | ManifestEndMessage
  | CancelMessage
  | VerifiedRequestMessage
  | VerifiedRecordsMessage
  | ProgressMessage
  | BackupVerdictMessage
  | BackupVerdictAckMessage
  | FileRequestMessage
  | FileDataMessage
  | FileEndMessage;

export type DecodedMessage = Message | UnknownMessage;

/** Messages as the encoder takes them: version is always ours. */
export type OutgoingMessage = Omit<HelloMessage, 'version'> | Omit<ErrorMessage, 'version'> | Exclude<Message, HelloMessage | ErrorMessage>;

export function emptyTotals(): ManifestTotals {
  return { count: 0, files: 0, dirs: 0, symlinks: 0, errors: 0, bytes: 0 };
}

export function addToTotals(totals: ManifestTotals, entry: ManifestEntry): void {
  totals.count++;
  switch (entry.type) {
    case 'file':
      totals.files++;
      totals.bytes += entry.size;
      break;
    case 'dir':
      totals.dirs++;
      break;
    case 'symlink':
      totals.symlinks++;
      break;
    case 'error':
      totals.errors++;
      break;
  }
}

/** The first differing total, in words, or undefined when equal. */
export function diffTotals(expected: ManifestTotals, received: ManifestTotals): string | undefined {
  for (const key of ['count', 'files', 'dirs', 'symlinks', 'errors', 'bytes'] as const) {
    if (expected[key] !== received[key]) return `${key}: the peer announced ${expected[key]}, received ${received[key]}`;
  }
  return undefined;
}
