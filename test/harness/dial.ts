/**
 * Connect to a device knowing only its device ID: candidates from the
 * finder (mDNS table, static peers), dialled in order with the peer client,
 * which pins the device ID in the TLS handshake.
 *
 *   const session = await dialDevice({ deviceId, identity, finder });
 */
import type { Identity } from '../../src/identity/identity.js';
import type { PeerSession } from '../../src/peer/client.js';
import { connectToPeer } from '../../src/peer/connect.js';
import { PeerError, WrongDeviceError } from '../../src/peer/errors.js';
import type { Candidate, PeerFinder } from '../../src/discovery/candidates.js';
import { connectToDevice } from '../../src/discovery/connect.js';
import type { StaticPeers } from '../../src/discovery/static-peers.js';

export interface DialDeviceOptions {
  deviceId: string;
  identity: Identity;
  finder: PeerFinder;
  /** Our name in the hello (default: the peer client's default). */
  name?: string;
  /** How long to wait for discovery to produce a first address (default 5 s). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Static peers to teach which device answered where (skipped for other devices next time). */
  statics?: StaticPeers;
}

export async function dialDevice(options: DialDeviceOptions): Promise<{ session: PeerSession; candidate: Candidate }> {
  const dial = async (candidate: Candidate): Promise<PeerSession> => {
    if (candidate.host.includes('%')) {
      // The peer client dials by URL, and a URL cannot carry an IPv6 zone (`fe80::1%eth0`).
      throw new PeerError('E_CONNECT', `${candidate.host} is an IPv6 link-local address, which this version cannot dial`, {
        hint: 'Use an IPv4 or a routable IPv6 address of that device.',
      });
    }
    try {
      return await connectToPeer({
        host: candidate.host,
        port: candidate.port,
        identity: options.identity,
        expectDeviceId: options.deviceId,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      // A static address that answered with another device's certificate belongs to that device.
      const other = err instanceof WrongDeviceError ? err.presentedDeviceId : undefined;
      if (candidate.source === 'static' && other && options.statics) options.statics.learn(candidate.host, candidate.port, other);
      throw err;
    }
  };
  const { connection, candidate } = await connectToDevice(options.deviceId, options.finder, dial, {
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (candidate.source === 'static') options.statics?.learn(candidate.host, candidate.port, options.deviceId);
  return { session: connection, candidate };
}
