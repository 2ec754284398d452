/**
 * Protocol version 1's numbers: every peer-controlled count and size has a
 * cap here, and docs/protocol.md documents each one.
 */
export const PROTOCOL_VERSION = 1;

/** Largest frame either side ever sends; also the WebSocket `maxPayload`. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Largest frame either side decodes before the handshake is done (the
 * peer's hello accepted: trusted by the server, the expected device for the
 * client): a hello or an error is at most ~4.3 KiB (an error's message and
 * hint are 2 KiB each). A peer nobody trusts yet gets no bigger decode.
 */
export const HANDSHAKE_FRAME_BYTES = 8 * 1024;

/** Path to request on the server; the version is in the path so a later one can live beside it. */
export const WS_PATH = '/synker/v1';
/** The agent's default TCP port (the config's `port` overrides it). */
export const DEFAULT_PORT = 7780;

export const LIMITS = {
  nameBytes: 128,
  softwareBytes: 64,
  features: 32,
  featureBytes: 64,
  errorCodeBytes: 64,
  errorMessageBytes: 2048,
  errorHintBytes: 2048,
  /** Request IDs are uint32. */
  maxReq: 0xffffffff,
  folderIdBytes: 256,
  ignoreLines: 10_000,
  ignoreLineBytes: 4096,
  batchEntries: 1000,
  /** Paths in one verified-request (and records in its answer): 200 paths of 4 KiB fit a frame. */
  verifiedPaths: 200,
  /** A sender starts a new batch past this estimated size, so a batch always fits a frame. */
  batchTargetBytes: 256 * 1024,
  pathBytes: 4096,
  targetBytes: 4096,
  entryFlags: 8,
  entryFlagBytes: 32,
  entryErrorCodeBytes: 32,
  entryErrorBytes: 1024,
  hashBytes: 32,
  maxMode: 0o7777,
  manifestEntries: 100_000_000,
  unknownFrames: 100,
  /** Bytes of file content in one file-data frame. */
  fileDataBytes: 256 * 1024,
  /** The one-line summary of a backup-verdict. */
  verdictSummaryBytes: 1024,
  /** A backup-verdict's `at`: before 2100-01-01 (ms). */
  maxVerdictAt: 4_102_444_800_000,
  /** File requests a client may have running at once in one session. */
  filesInFlight: 16,
} as const;

/** Server stops pulling from its source while this much is waiting in the send buffer. */
export const SEND_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Answers sent without pacing (errors, ends) that may wait unread before the
 * session fails with E_LIMIT. A client reads as it goes and has at most 17
 * requests running, so it never gets near this; a peer that floods requests
 * and reads nothing would otherwise grow the other side's memory without end.
 */
export const UNREAD_ANSWERS_LIMIT_BYTES = 4 * 1024 * 1024;
/** Client stops reading the socket above this many undelivered batches, resumes at the low mark. */
export const RECEIVE_HIGH_WATER_BATCHES = 4;
export const RECEIVE_LOW_WATER_BATCHES = 1;
/** Client stops reading the socket while this many received file bytes wait to be written, resumes below half. */
export const RECEIVE_HIGH_WATER_FILE_BYTES = 4 * 1024 * 1024;
