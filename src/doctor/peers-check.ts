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
import { connectToPeer } from '../peer/index.js';
import { fail, ok, skip, type Finding } from './finding.js';

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
  // Nowhere to look: no search on the network (--no-multicast) and no static address. Nothing was searched, so nothing
  // was "not found": say that, instead of waiting for candidates that cannot come.
  if (options.discovered === undefined && config.peers.length === 0) {
    return config.trusted.map((device) =>
      skip(
        CHECK,
        `${whoIs(device)}: not looked for: the search on the network is off (--no-multicast) and the config lists no address ("peers"); run doctor without --no-multicast, or add its address to "peers"`,
      ),
    );
  }
  const sources: CandidateSource[] = [new StaticPeers(config.peers)];
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
  const who = whoIs(device);
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
    return ok(CHECK, `${who} is reachable at ${candidate.host}:${candidate.port} (found via ${candidate.source}, ${software})`);
  } catch (err) {
    if (!(err instanceof SynkerError)) throw err;
    return fail(
      CHECK,
      `${who}: ${err.message}`,
      err.hint ?? 'Check that its agent runs (`synker service install` there), then `synker peers`.',
    );
  }
}

function whoIs(device: TrustedDevice): string {
  return device.name ? `"${device.name}" (${shortDeviceId(device.deviceId)})` : shortDeviceId(device.deviceId);
}
