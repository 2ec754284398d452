/** Sessions between agents: the client API, the agent's server, errors, backoff. */
export { connectToPeer } from './connect.js';
export type {
  ManifestRequestOptions,
  ConnectOptions,
  PeerSession,
  RemoteAgent,
  ManifestStream,
  ManifestInfo,
  BackupVerdict,
} from './client.js';
export {
  startAgentServer,
  type AgentServer,
  type AgentServerOptions,
  type AgentDirectory,
  type ManifestSource,
  type ManifestScanRequest,
  type FolderManifest,
  type UntrustedAttempt,
  type VerifiedRecordsSource,
  type BackupVerdictSink,
} from './server.js';
export { PeerError, LOCAL_PEER_ERROR_CODES } from './errors.js';
export { Backoff, retryWithBackoff, sleep, type BackoffOptions } from './backoff.js';
export { DEFAULT_TIMEOUTS, type SessionTimeouts } from './timeouts.js';
export { DEFAULT_CAPS, type ConnectionCaps } from './limiter.js';
