/**
 * Finding the source of a backup folder: the devices the folder is shared
 * with (or the one `--peer` names), at the addresses the locator knows
 * (static peers, `--peer host:port`, discovery), each connection pinned to
 * the device ID it must present. The first device that serves the folder as
 * its source wins; every failed attempt is kept for the error message
 * (no-source.ts words it).
 */
import { resolveTrustedDevice, UnknownDeviceError } from '../config/device-ref.js';
import { formatDeviceId } from '../identity/device-id.js';
import type { Identity } from '../identity/identity.js';
import { parsePeerAddress, type PeerAddress } from '../config/peer-address.js';
import type { FolderConfig, FolderRole, SynkerConfig, TrustedDevice } from '../config/types.js';
import { SynkerError, rethrowIfBug } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { connectToPeer, type ManifestInfo, type ManifestStream, type PeerSession } from '../peer/index.js';
import { WrongDeviceError } from '../peer/errors.js';
import { CheckError } from './errors.js';
import { label, noSourceError, type Attempt } from './no-source.js';

const log = createLogger('check');

export interface SourceAddress extends PeerAddress {
  /** Where the address came from, for messages: `--peer`, `config`, `mdns`. */
  via: string;
}

/**
 * Where a device may be reached (static peers, discovery); addresses are
 * hints, never trusted. Yields the cheap ones first (static addresses) and
 * only looks further (e.g. starts mDNS) when asked for more.
 */
export interface SourceLocator {
  addresses(deviceId: string, options: { waitMs: number; signal?: AbortSignal | undefined }): AsyncIterable<SourceAddress>;
  /** True when it also looks on the LAN (mDNS); absent or false: static addresses only. */
  readonly searchesLan?: boolean;
  /** Why the LAN search could not look anywhere (no interface up), after addresses() ran; undefined when it could. */
  lanProblem?(): { problem: string; hint: string } | undefined;
}

export interface FindSourceInput {
  config: SynkerConfig;
  folder: FolderConfig;
  identity: Identity;
  locator: SourceLocator;
  /** `--peer`: a trusted device (name, ID, short ID) or `host:port`. */
  peer?: string | undefined;
  /** Reaching the source: waiting for addresses, and each connection's handshake. */
  timeoutMs: number;
  /** The role the peer must hold the folder in (default `source`; `synker restore` looks for a `backup`). */
  wantRole?: FolderRole;
  /** Files of the manifest will be fetched in this session (sync, restore): the peer then indexes what it sends. */
  requestFiles?: boolean;
  /** How the source should hash: re-hash everything (`verify`) or not at all (`hash: false`). */
  scan?: { verify?: boolean; hash?: boolean };
  signal?: AbortSignal | undefined;
}

export interface FoundSource {
  session: PeerSession;
  manifest: ManifestStream;
  info: ManifestInfo;
  device: TrustedDevice;
  address: string;
}

/**
 * `--peer` value: an address when it ends in a port (or a bare colon: a port
 * left out), is bracketed or starts with an IPv4 literal; else a device reference.
 */
function peerAsAddress(peer: string): PeerAddress | undefined {
  if (!/:\d*$|^\[.*\]|^\d+\.\d+\.\d+\.\d+(:|$)/.test(peer.trim())) return undefined;
  return parsedPeer(peer);
}

function parsedPeer(peer: string): PeerAddress {
  const parsed = parsePeerAddress(peer);
  if (typeof parsed === 'string') {
    throw new CheckError('E_CHECK_PEER', `--peer ${peer}: ${parsed}`, {
      hint: 'Give a trusted device (name or device ID) or an address as host:port, e.g. 192.168.1.20:7780.',
    });
  }
  return parsed;
}

function candidateDevices(
  config: SynkerConfig,
  folder: FolderConfig,
  peer: string | undefined,
  address: PeerAddress | undefined,
): TrustedDevice[] {
  const shared = folder.shareWith.map((id) => config.trusted.find((t) => t.deviceId === id) ?? { deviceId: id });
  if (peer !== undefined && address === undefined) {
    let device: TrustedDevice;
    try {
      device = resolveTrustedDevice(config, peer);
    } catch (err) {
      // Not a device, and with a colon it was meant as host:port: say what is wrong with the address.
      if (err instanceof UnknownDeviceError && peer.includes(':')) parsedPeer(peer);
      throw err;
    }
    if (!folder.shareWith.includes(device.deviceId)) {
      throw new CheckError('E_CHECK_NOT_SHARED', `folder "${folder.id}" is not shared with ${label(device)}`, {
        hint: `Share it first: synker folder share ${folder.id} ${device.name ?? formatDeviceId(device.deviceId)}`,
      });
    }
    return [device];
  }
  if (shared.length === 0) {
    throw new CheckError(
      'E_CHECK_NO_SOURCE',
      `folder "${folder.id}" is not shared with any device, so there is no source to compare it with`,
      {
        hint: `Share it with the machine that holds the originals: synker folder share ${folder.id} DEVICE`,
      },
    );
  }
  return shared;
}

async function* only(address: SourceAddress): AsyncGenerator<SourceAddress> {
  yield address;
}

/**
 * What a session with one candidate device gave: a value (the search ends
 * there), or `elsewhere` when the device answered but does not hold the
 * folder in the role wanted (a backup): on to the next device.
 */
export type Reached<T> = { value: T } | 'elsewhere';

/** The connection part of findSource: whom to try, where, and how long (no manifest, no role). */
export type ReachInput = Omit<FindSourceInput, 'wantRole' | 'requestFiles' | 'scan'>;

/**
 * The one way a backup reaches the devices that may hold its folder's
 * source: each candidate device (the folder's, or the one `--peer` names)
 * at each address the locator yields, the connection pinned to that
 * device's ID; `visit` does what the caller came for in the session. A value
 * ends the search (the session is then the caller's: `visit` keeps or closes
 * it); a SynkerError it throws is one failed attempt (the session is closed)
 * and the search goes on; when no device gave a value, the attempts become
 * the one error (no-source.ts). `wantRole` only names the role in that error.
 */
export async function reachSource<T>(
  input: ReachInput & { wantRole?: FolderRole },
  visit: (session: PeerSession, device: TrustedDevice, where: string) => Promise<Reached<T>>,
): Promise<T> {
  const { config, folder, identity } = input;
  const explicit = input.peer === undefined ? undefined : peerAsAddress(input.peer);
  const devices = candidateDevices(config, folder, input.peer, explicit);
  const attempts: Attempt[] = [];
  const notSource: TrustedDevice[] = [];
  // Whose each address tried is (the device whose certificate answered, or the one it was tried for):
  // the same address (--peer, a static peer) is a candidate for every device, but one connection tells.
  const owners = new Map<string, string | undefined>();
  for (const device of devices) {
    const addresses: AsyncIterable<SourceAddress> =
      explicit !== undefined
        ? only({ ...explicit, via: '--peer' })
        : input.locator.addresses(device.deviceId, { waitMs: input.timeoutMs, signal: input.signal });
    for await (const address of addresses) {
      input.signal?.throwIfAborted();
      const where = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
      if (owners.has(where) && owners.get(where) !== device.deviceId) {
        log.debug(`${label(device)}: ${where} (${address.via}) was tried already, not for this device`);
        continue;
      }
      owners.set(where, device.deviceId);
      let session: PeerSession | undefined;
      try {
        session = await connectToPeer({
          host: address.host,
          port: address.port,
          identity,
          expectDeviceId: device.deviceId,
          expectName: device.name,
          name: config.name,
          timeouts: { handshakeTimeout: input.timeoutMs },
          signal: input.signal,
        });
        const reached = await visit(session, device, where);
        if (reached === 'elsewhere') {
          notSource.push(device);
          await session.close();
          break;
        }
        log.debug(`${input.wantRole ?? 'source'} of "${folder.id}": ${label(device)} at ${where} (${address.via})`);
        return reached.value;
      } catch (err) {
        rethrowIfBug(err);
        if (session !== undefined) await session.close().catch(() => undefined);
        if (!(err instanceof SynkerError)) throw err;
        if (err instanceof WrongDeviceError) owners.set(where, err.presentedDeviceId);
        log.debug(`${label(device)} at ${where} (${address.via}): ${err.message}`);
        attempts.push({ device, address: `${where} (${address.via})`, via: address.via, error: err });
      }
    }
  }
  const searchedLan = explicit === undefined && input.locator.searchesLan === true;
  const peerAddress =
    explicit === undefined ? undefined : `${explicit.host.includes(':') ? `[${explicit.host}]` : explicit.host}:${explicit.port}`;
  throw noSourceError({
    config,
    folder,
    devices,
    attempts,
    notSource,
    searchedLan,
    lanProblem: searchedLan ? input.locator.lanProblem?.() : undefined,
    peerAddress,
  });
}

/** The source of a backup folder (or, with `wantRole`, a peer holding it in that role), its manifest requested in the session. */
export async function findSource(input: FindSourceInput): Promise<FoundSource> {
  const wantRole = input.wantRole ?? 'source';
  return reachSource(input, async (session, device, where) => {
    const manifest = session.requestManifest(input.folder.id, {
      ...input.scan,
      ...(input.requestFiles === true ? { files: true } : {}),
    });
    const info = await manifest.info;
    if (info.role !== wantRole) {
      log.debug(`${label(device)} at ${where} holds "${input.folder.id}" as ${info.role}, not as the ${wantRole}`);
      return 'elsewhere';
    }
    return { value: { session, manifest, info, device: { ...device, name: device.name ?? session.remote.name }, address: where } };
  });
}
