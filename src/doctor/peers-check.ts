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
  // This user's other homes on this machine are found without multicast (also with --no-multicast).
  const sources: CandidateSource[] = [new LocalAgents(), new StaticPeers(config.peers)];
  // No search on the network (--no-multicast) and no static address: a device not among this machine's
  // agents was not looked for, so it was not "not found". Say that instead.
  const onlyThisMachine = options.discovered === undefined && config.peers.length === 0;
  if (options.discovered) sources.unshift(options.discovered);
  const finder = new PeerFinder(sources);
  return Promise.all(
    config.trusted.map(async (device) => {
      const finding = await checkOne(device, finder, config, identity, options.waitMs);
      if (!onlyThisMachine || finding.status === 'ok') return finding;
      return skip(
        CHECK,
        `${whoIs(device)}: not looked for beyond this machine: the search on the network is off (--no-multicast) and the config lists no address ("peers"); run doctor without --no-multicast, or add its address to "peers"`,
      );
    }),
  );
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

function whoIs(device: TrustedDevice): string {
  return device.name ? `"${device.name}" (${shortDeviceId(device.deviceId)})` : shortDeviceId(device.deviceId);
}
