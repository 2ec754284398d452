/**
 * The TXT record of a synker service (RFC 6763 §6): what the whole LAN may
 * know about an agent before authenticating — and nothing more. Never put
 * folder names or paths here: every host on the link hears TXT records.
 *
 *   txtvers=1   format of this record
 *   id=<56>     device ID, canonical form (no dashes)
 *   pv=<int>    protocol version the agent speaks
 *   name=<str>  short agent name (≤ 63 bytes UTF-8)
 */
import { isDeviceId, parseDeviceId } from '../identity/device-id.js';
import { DiscoveryError } from './errors.js';

export const TXT_VERSION = 1;
/** A name longer than this is cut (DNS labels are ≤ 63 bytes, and the name also forms the instance label). */
export const MAX_NAME_BYTES = 63;

export interface SynkerTxt {
  deviceId: string;
  protocolVersion: number;
  name: string;
}

/** What a TXT record says, read leniently: any DNS-SD service may show up (an Avahi-published one, a broken agent). */
export interface DecodedTxt {
  /** All key=value pairs (keys lower-cased, RFC 6763 §6.4); a key without '=' maps to ''. */
  pairs: Record<string, string>;
  /** Set only when the record is a valid synker record. */
  synker?: SynkerTxt;
  /** Why it is not a valid synker record (empty when it is). */
  problems: string[];
}

/** Cut a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > max) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** An agent name fit for TXT and instance labels: no control characters, no dots, ≤ 63 bytes. */
export function cleanAgentName(name: string): string {
  const cleaned = truncateUtf8(
    name
      .normalize('NFC')
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .replace(/\./g, '-')
      .trim(),
    MAX_NAME_BYTES,
  ).trim();
  return cleaned || 'synker';
}

export function encodeTxt(txt: SynkerTxt): Buffer[] {
  if (!isDeviceId(txt.deviceId)) throw new DiscoveryError('E_DISCOVERY_TXT', `cannot advertise: "${txt.deviceId}" is not a device ID`);
  if (!Number.isInteger(txt.protocolVersion) || txt.protocolVersion < 0) {
    throw new DiscoveryError('E_DISCOVERY_TXT', `cannot advertise: protocol version ${txt.protocolVersion} is not a whole number`);
  }
  return [`txtvers=${TXT_VERSION}`, `id=${txt.deviceId}`, `pv=${txt.protocolVersion}`, `name=${cleanAgentName(txt.name)}`].map((s) =>
    Buffer.from(s, 'utf8'),
  );
}

export function decodeTxt(data: ReadonlyArray<Buffer | string> | Buffer | string | undefined): DecodedTxt {
  const pairs: Record<string, string> = {};
  const strings = data === undefined ? [] : Array.isArray(data) ? data : [data as Buffer | string];
  for (const raw of strings) {
    const s = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (s.length === 0) continue;
    const eq = s.indexOf('=');
    const key = (eq === -1 ? s : s.slice(0, eq)).toLowerCase();
    // RFC 6763 §6.4: only the first occurrence of a key counts.
    if (key.length === 0 || key in pairs) continue;
    pairs[key] = eq === -1 ? '' : s.slice(eq + 1);
  }
  const problems: string[] = [];
  const id = pairs.id;
  if (id === undefined) problems.push('no device ID (id=)');
  else if (!isDeviceId(id)) problems.push(`"${id.slice(0, 70)}" is not a device ID`);
  const pvText = pairs.pv;
  const pv = pvText !== undefined && /^\d{1,6}$/.test(pvText) ? Number(pvText) : undefined;
  if (pv === undefined)
    problems.push(pvText === undefined ? 'no protocol version (pv=)' : `protocol version "${pvText.slice(0, 20)}" is not a number`);
  const name = cleanAgentName(pairs.name ?? '');
  if (problems.length > 0) return { pairs, problems };
  return { pairs, problems, synker: { deviceId: parseDeviceId(id!), protocolVersion: pv!, name } };
}
