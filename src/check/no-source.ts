/**
 * Why no source was found, in words: the failed attempts to reach the
 * devices that may hold a folder's source, turned into the one error a
 * check reports (not shared, no source, not found, absent, failed,
 * unreachable) with its hint. find-source.ts makes the attempts.
 */
import { describeDevice } from '../config/device-ref.js';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { FolderConfig, SynkerConfig, TrustedDevice } from '../config/types.js';
import type { SynkerError } from '../base/errors.js';
import { PeerError, WrongDeviceError } from '../peer/errors.js';
import { ProtocolError } from '../protocol/index.js';
import { CheckError } from './errors.js';

/** One failed try at one address of one device. */
export interface Attempt {
  device: TrustedDevice;
  address: string;
  /** Where the address came from (SourceAddress.via). */
  via: string;
  error: SynkerError;
}

/** A device as messages name it: its name and short ID, or the short ID alone. */
export function label(device: TrustedDevice): string {
  return device.name ? `${device.name} (${shortDeviceId(device.deviceId)})` : shortDeviceId(device.deviceId);
}

interface NoSource {
  config: SynkerConfig;
  folder: FolderConfig;
  devices: TrustedDevice[];
  attempts: Attempt[];
  /** Devices that answered but hold the folder in another role. */
  notSource: TrustedDevice[];
  searchedLan: boolean;
  /** Why the LAN search looked nowhere, and the hint for it. */
  lanProblem: { problem: string; hint: string } | undefined;
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
    const presented =
      id === undefined ? 'no device' : trusted !== undefined ? describeDevice(trusted, id) : `the untrusted device ${formatDeviceId(id)}`;
    return `${attempt.address}: presented the certificate of ${presented}, not of ${label(attempt.device)}`;
  }
  return `${attempt.address}: ${attempt.error.message}`;
}

export function noSourceError({
  config,
  folder,
  devices,
  attempts: all,
  notSource,
  searchedLan,
  lanProblem,
  peerAddress,
}: NoSource): CheckError {
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
    return new CheckError(
      'E_SOURCE_NOT_FOUND',
      `the source of folder "${folder.id}" (${missing.map(label).join(', ')}) was not tried: ${peerAddress} (--peer) is another device${also}`,
      {
        hint: `Point --peer at the source: --peer ${names[0]!} (its name), or its own address as host:port.`,
      },
    );
  }
  if (attempts.length === 0) {
    const where = !searchedLan
      ? 'at any address in the config (discovery is off)'
      : lanProblem !== undefined
        ? `on the network: ${lanProblem.problem}`
        : 'on the network';
    return new CheckError(
      'E_SOURCE_NOT_FOUND',
      `the source of folder "${folder.id}" (${missing.map(label).join(', ')}) was not found ${where}${also}`,
      {
        hint: !searchedLan
          ? 'Check that synker agent runs there, and give its address: --peer host:port, or add it to "peers" in the config.'
          : lanProblem !== undefined
            ? lanProblem.hint
            : 'Check that synker agent runs there; if multicast does not get through, give its address: --peer host:port, or add it to "peers" in the config.',
      },
    );
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
  const lan = lanProblem === undefined ? '' : `; mDNS: ${lanProblem.problem}`;
  // Reached, then refused or failed: a firewall or a longer --timeout would not help.
  const answered = attempts.filter((a) => answeredThenFailed(a.error));
  if (answered.length > 0) {
    const notReached = attempts.filter((a) => !answered.includes(a));
    const elsewhere = notReached.length === 0 ? '' : `; not reached: ${notReached.map((a) => describeAttempt(config, a)).join('; ')}`;
    const last = answered[answered.length - 1]!;
    return new CheckError(
      'E_SOURCE_FAILED',
      `the source of folder "${folder.id}" answered but did not serve it: ${answered.map((a) => describeAttempt(config, a)).join('; ')}${elsewhere}${lan}${also}`,
      {
        cause: last.error,
        hint: last.error.hint ?? `The log of synker agent on ${last.device.name ?? 'the source'} says why; try again once it is fixed.`,
      },
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
 * it dropped, stopped answering, or answered without progress (stalled) after it opened.
 */
function answeredThenFailed(error: SynkerError): boolean {
  if (error instanceof ProtocolError) return true;
  if (!(error instanceof PeerError)) return false;
  return error.remote || error.code === 'E_PEER_CLOSED' || error.code === 'E_PEER_UNRESPONSIVE' || error.code === 'E_PEER_STALLED';
}
