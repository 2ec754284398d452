/**
 * Connect to a device by its ID alone: ask the finder for candidate
 * addresses, dial them in order, keep the first connection that succeeds.
 * The dial function (the peer client) must verify the device ID on connect:
 * an address is only a hint.
 */
import { createLogger } from '../base/log.js';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { Candidate, PeerFinder } from './candidates.js';
import { DiscoveryError } from './errors.js';

const log = createLogger('discovery');

export interface DialAttempt {
  candidate: Candidate;
  error: Error;
}

export interface ConnectOptions {
  /** How long to wait for a first candidate when none is known yet (default 5 s). */
  waitMs?: number;
  signal?: AbortSignal;
}

export async function connectToDevice<T>(
  deviceId: string,
  finder: PeerFinder,
  dial: (candidate: Candidate) => Promise<T>,
  options: ConnectOptions = {},
): Promise<{ connection: T; candidate: Candidate; attempts: DialAttempt[] }> {
  const candidates = await finder.waitForCandidates(deviceId, options.waitMs ?? 5000, options.signal);
  if (candidates.length === 0) {
    throw new DiscoveryError('E_PEER_NOT_FOUND', `device ${shortDeviceId(deviceId)} was not found on the network`, {
      hint:
        `Check that synker agent runs on that device (\`synker peers\` lists what is visible). If multicast does not get through ` +
        `(AP client isolation, firewall blocking UDP 5353, a VPN), give its address: --peer host:port or "peers" in the config.`,
    });
  }
  const attempts: DialAttempt[] = [];
  for (const candidate of candidates) {
    options.signal?.throwIfAborted();
    try {
      const connection = await dial(candidate);
      log.debug(`connected to ${shortDeviceId(deviceId)} at ${candidate.host}:${candidate.port} (${candidate.source})`);
      return { connection, candidate, attempts };
    } catch (err) {
      if (err instanceof TypeError || err instanceof ReferenceError) throw err;
      const error = err instanceof Error ? err : new Error(String(err));
      log.debug(`${candidate.host}:${candidate.port} (${candidate.source}): ${error.message}`);
      attempts.push({ candidate, error });
    }
  }
  const tried = attempts.map((a) => `${a.candidate.host}:${a.candidate.port} (${a.candidate.source}): ${a.error.message}`).join('; ');
  throw new DiscoveryError('E_PEER_UNREACHABLE', `cannot connect to device ${formatDeviceId(deviceId)}: tried ${tried}`, {
    hint: 'Check that the agent runs there and that a firewall lets its TCP port through; a wrong device ID at an address means another device answers there.',
  });
}
