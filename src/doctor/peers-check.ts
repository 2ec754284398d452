/**
 * Trusted devices: can this machine reach each one right now, through
 * discovery or the static `peers` list, with the certificate it pinned and a
 * completed handshake? Each is dialled the way `synker check` dials a source.
 */
import { shortDeviceId } from '../identity/device-id.js';
import type { Identity } from '../identity/identity.js';
import type { SynkerConfig, TrustedDevice } from '../config/types.js';
import { connectToDevice, PeerFinder, StaticPeers, type CandidateSource } from '../discovery/index.js';
import { SynkerError } from '../base/errors.js';
import { LocalAgents } from '../discovery/local-agents.js';
import { connectToPeer } from '../peer/index.js';
import { fail, ok, type Finding } from './finding.js';

const CHECK = 'peer';

export interface PeersCheckOptions {
  config: SynkerConfig;
  identity: Identity;
  /** Discovery's candidates (mDNS), when discovery runs. */
  discovered?: CandidateSource;
  /** How long to wait for a device to show up. */
  waitMs: number;
}

export async function checkPeers(options: PeersCheckOptions): Promise<Finding[]> {
  const { config, identity } = options;
  // This user's other homes on this machine are found without multicast (also with --no-multicast).
  const sources: CandidateSource[] = [new LocalAgents(), new StaticPeers(config.peers)];
  if (options.discovered) sources.unshift(options.discovered);
  const finder = new PeerFinder(sources);
  return Promise.all(config.trusted.map((device) => checkOne(device, finder, config, identity, options.waitMs)));
}

async function checkOne(
  device: TrustedDevice,
  finder: PeerFinder,
  config: SynkerConfig,
  identity: Identity,
  waitMs: number,
): Promise<Finding> {
  const who = device.name ? `"${device.name}" (${shortDeviceId(device.deviceId)})` : shortDeviceId(device.deviceId);
  try {
    const { connection, candidate } = await connectToDevice(
      device.deviceId,
      finder,
      (c) =>
        connectToPeer({
          host: c.host,
          port: c.port,
          identity,
          expectDeviceId: device.deviceId,
          name: config.name,
          timeouts: { handshakeTimeout: 5000 },
        }),
      { waitMs },
    );
    const software = connection.remote.software;
    await connection.close();
    return ok(
      CHECK,
      `${who} is reachable at ${candidate.host}:${candidate.port} (found via ${candidate.source === 'local' ? 'this machine' : candidate.source}, ${software})`,
    );
  } catch (err) {
    if (!(err instanceof SynkerError)) throw err;
    return fail(
      CHECK,
      `${who}: ${err.message}`,
      err.hint ?? 'Check that its agent runs (`synker service install` there), then `synker peers`.',
    );
  }
}
