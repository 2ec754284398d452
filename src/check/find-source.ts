/**
 * Finding the source of a backup folder: the devices the folder is shared
 * with (or the one `--peer` names), at the addresses the locator knows
 * (static peers, `--peer host:port`, discovery), each connection pinned to
 * the device ID it must present. The first device that serves the folder as
 * its source wins; every failed attempt is kept for the error message.
 */
import { describeDevice, resolveTrustedDevice, UnknownDeviceError } from '../config/device-ref.js';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { Identity } from '../identity/identity.js';
import { parsePeerAddress, type PeerAddress } from '../config/peer-address.js';
import type { FolderConfig, FolderRole, SynkerConfig, TrustedDevice } from '../config/types.js';
import { SynkerError, rethrowIfBug } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { connectToPeer, type ManifestInfo, type ManifestStream, type PeerSession } from '../peer/index.js';
import { PeerError, WrongDeviceError } from '../peer/errors.js';
import { ProtocolError } from '../protocol/index.js';
import { CheckError } from './errors.js';

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
  lanProblem?(): string | undefined;
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

interface Attempt {
  device: TrustedDevice;
  address: string;
  /** Where the address came from (SourceAddress.via). */
  via: string;
  error: SynkerError;
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

function label(device: TrustedDevice): string {
  return device.name ? `${device.name} (${shortDeviceId(device.deviceId)})` : shortDeviceId(device.deviceId);
}

function candidateDevices(config: SynkerConfig, folder: FolderConfig, peer: string | undefined, address: PeerAddress | undefined): TrustedDevice[] {
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
    throw new CheckError('E_CHECK_NO_SOURCE', `folder "${folder.id}" is not shared with any device, so there is no source to compare it with`, {
      hint: `Share it with the machine that holds the originals: synker folder share ${folder.id} DEVICE`,
    });
  }
  return shared;
}

async function* only(address: SourceAddress): AsyncGenerator<SourceAddress> {
  yield address;
}

export async function findSource(input: FindSourceInput): Promise<FoundSource> {
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
        const manifest = session.requestManifest(folder.id, { ...input.scan, ...(input.requestFiles === true ? { files: true } : {}) });
        const info = await manifest.info;
        if (info.role !== (input.wantRole ?? 'source')) {
          log.debug(`${label(device)} at ${where} holds "${folder.id}" as ${info.role}, not as the ${input.wantRole ?? 'source'}`);
          notSource.push(device);
          await session.close();
          break;
        }
        log.debug(`source of "${folder.id}": ${label(device)} at ${where} (${address.via})`);
        return { session, manifest, info, device: { ...device, name: device.name ?? session.remote.name }, address: where };
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
  const peerAddress = explicit === undefined ? undefined : `${explicit.host.includes(':') ? `[${explicit.host}]` : explicit.host}:${explicit.port}`;
  throw noSourceError({ config, folder, devices, attempts, notSource, searchedLan, lanProblem: searchedLan ? input.locator.lanProblem?.() : undefined, peerAddress });
}

interface NoSource {
  config: SynkerConfig;
  folder: FolderConfig;
  devices: TrustedDevice[];
  attempts: Attempt[];
  /** Devices that answered but hold the folder in another role. */
  notSource: TrustedDevice[];
  searchedLan: boolean;
  lanProblem: string | undefined;
  /** `--peer host:port`, when given: the only address tried. */
  peerAddress?: string | undefined;
}

/**
 * A static address is a candidate for every device: another trusted device
 * answering there only means it is not this device's address, not an
 * impersonation, and says nothing about where the source is.
 */
function isOtherDevicesAddress(config: SynkerConfig, attempt: Attempt): boolean {
  const presented = attempt.error instanceof WrongDeviceError ? attempt.error.presentedDeviceId : undefined;
  return attempt.via === 'config' && presented !== undefined && config.trusted.some((t) => t.deviceId === presented);
}

/** One failed attempt for the error message; a wrong certificate names both devices as the user knows them. */
function describeAttempt(config: SynkerConfig, attempt: Attempt): string {
  if (attempt.error instanceof WrongDeviceError) {
    const id = attempt.error.presentedDeviceId;
    const trusted = id === undefined ? undefined : config.trusted.find((t) => t.deviceId === id);
    const presented = id === undefined ? 'no device' : trusted !== undefined ? describeDevice(trusted, id) : `the untrusted device ${formatDeviceId(id)}`;
    return `${attempt.address}: presented the certificate of ${presented}, not of ${label(attempt.device)}`;
  }
  return `${attempt.address}: ${attempt.error.message}`;
}

function noSourceError({ config, folder, devices, attempts: all, notSource, searchedLan, lanProblem, peerAddress }: NoSource): CheckError {
  // What counts: failures at the source's own addresses (not a backup's, whatever else it answered first).
  const attempts = all.filter((a) => !isOtherDevicesAddress(config, a) && !notSource.some((n) => n.deviceId === a.device.deviceId));
  const refused = attempts.find((a) => a.error.code === 'E_FOLDER_NOT_FOUND');
  if (refused !== undefined && attempts.every((a) => a.error.code === 'E_FOLDER_NOT_FOUND' || a.error.code === 'E_WRONG_DEVICE')) {
    return new CheckError('E_CHECK_NOT_SHARED', `${label(refused.device)} does not share folder "${folder.id}" with this device`, {
      hint: `On ${refused.device.name ?? 'the source'}, run: synker folder share ${folder.id} <this device's ID from \`synker id\`>`,
    });
  }
  const backups =
    notSource.length === 0 ? undefined : `${notSource.map(label).join(', ')} ${notSource.length === 1 ? 'holds' : 'hold'} it as a backup`;
  // Devices neither reached nor answering as a backup: where the source may be.
  const missing = devices.filter((d) => !notSource.some((n) => n.deviceId === d.deviceId));
  if (attempts.length === 0 && missing.length === 0) {
    return new CheckError('E_CHECK_NO_SOURCE', `no device serves folder "${folder.id}" as its source (${backups})`, {
      hint: 'Set the role on the machine with the originals: synker folder add ID PATH --role source',
    });
  }
  const also = backups === undefined ? '' : `; ${backups}`;
  if (attempts.length === 0 && peerAddress !== undefined) {
    // --peer pointed at another device (a backup): the source was never tried, say which one to point at.
    const names = missing.map((d) => d.name ?? formatDeviceId(d.deviceId));
    return new CheckError('E_SOURCE_NOT_FOUND', `the source of folder "${folder.id}" (${missing.map(label).join(', ')}) was not tried: ${peerAddress} (--peer) is another device${also}`, {
      hint: `Point --peer at the source: --peer ${names[0]!} (its name), or its own address as host:port.`,
    });
  }
  if (attempts.length === 0) {
    const where = !searchedLan
      ? 'at any address in the config (discovery is off)'
      : lanProblem !== undefined
        ? `on the network: ${lanProblem}`
        : 'on the network';
    return new CheckError('E_SOURCE_NOT_FOUND', `the source of folder "${folder.id}" (${missing.map(label).join(', ')}) was not found ${where}${also}`, {
      hint: !searchedLan
        ? 'Check that synker agent runs there, and give its address: --peer host:port, or add it to "peers" in the config.'
        : lanProblem !== undefined
          ? 'Check the --interface name (`ip address` lists the interfaces that are up), or give the source\'s address: --peer host:port.'
          : 'Check that synker agent runs there; if multicast does not get through, give its address: --peer host:port, or add it to "peers" in the config.',
    });
  }
  // Reached, but the folder is missing over there (an unmounted disk on the source): say where to act.
  const absent = attempts.find((a) => a.error.code === 'E_FOLDER_ABSENT');
  if (absent !== undefined && attempts.every((a) => a.error.code === 'E_FOLDER_ABSENT')) {
    const there = absent.device.name ?? 'the source';
    // The source prefixes its own agent name ("vm: folder ... is absent"); the device is named here already.
    const words = /^[^\n]{1,64}?: (folder "[\s\S]*)$/.exec(absent.error.message)?.[1] ?? absent.error.message;
    return new CheckError('E_SOURCE_FOLDER_ABSENT', `the source ${label(absent.device)} was reached, but on it ${words}`, {
      cause: absent.error,
      hint: `On ${there}: ${absent.error.hint ?? 'mount the disk that holds the folder'}`,
    });
  }
  const lan = lanProblem === undefined ? '' : `; mDNS: ${lanProblem}`;
  // Reached, then refused or failed: a firewall or a longer --timeout would not help.
  const answered = attempts.filter((a) => answeredThenFailed(a.error));
  if (answered.length > 0) {
    const notReached = attempts.filter((a) => !answered.includes(a));
    const elsewhere = notReached.length === 0 ? '' : `; not reached: ${notReached.map((a) => describeAttempt(config, a)).join('; ')}`;
    const last = answered[answered.length - 1]!;
    return new CheckError(
      'E_SOURCE_FAILED',
      `the source of folder "${folder.id}" answered but did not serve it: ${answered.map((a) => describeAttempt(config, a)).join('; ')}${elsewhere}${lan}${also}`,
      { cause: last.error, hint: last.error.hint ?? `The log of synker agent on ${last.device.name ?? 'the source'} says why; try again once it is fixed.` },
    );
  }
  const tried = attempts.map((a) => describeAttempt(config, a)).join('; ');
  const last = attempts[attempts.length - 1]!.error;
  return new CheckError('E_SOURCE_UNREACHABLE', `cannot reach the source of folder "${folder.id}": ${tried}${lan}${also}`, {
    cause: last,
    hint: last.hint ?? 'Check that synker agent runs on the source and that a firewall lets its port through; --timeout gives it longer.',
  });
}

/**
 * True when the source was reached (its certificate checked) and then ended
 * the attempt: an `error` frame it sent (a refusal, even before its hello;
 * a failure mid-manifest), frames that break the protocol, or a connection
 * it dropped or stopped answering after it opened.
 */
function answeredThenFailed(error: SynkerError): boolean {
  if (error instanceof ProtocolError) return true;
  if (!(error instanceof PeerError)) return false;
  return error.remote || error.code === 'E_PEER_CLOSED' || error.code === 'E_PEER_UNRESPONSIVE';
}
