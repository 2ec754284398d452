/**
 * Schema check of a (migrated) raw config: returns a complete SynkerConfig
 * with defaults filled in and values normalised (device IDs canonical, role
 * aliases resolved, `~` expanded), or every problem found, each with the key
 * path it is about. Unknown keys are refused (with a suggestion) because a
 * misspelt key would otherwise be silently ignored.
 */
import path from 'node:path';
import { SynkerError } from '../base/errors.js';
import { parseSmtpSettings } from './smtp.js';
import { parseScheduleSettings } from './schedule.js';
import { formatDeviceId, isDeviceId, parseDeviceId, shortDeviceId } from '../identity/device-id.js';
import { CONFIG_VERSION, defaultConfig } from './defaults.js';
import type { JsonPath } from './json-source.js';
import { nameProblem } from './device-name.js';
import { expandHome, FOLDER_ID_PATTERN, FOLDER_ID_RULE, folderOverlap, NESTING_RULE, overlapWords } from './folder-rules.js';
import { parsePeerAddress } from './peer-address.js';
import { parseRole, type FolderConfig, type SynkerConfig, type TrustedDevice } from './types.js';

export interface ConfigIssue {
  path: JsonPath;
  message: string;
  /** What to do, when the section's own parser says. */
  hint?: string;
}

export class ConfigValidationError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}


const TOP_KEYS = ['version', 'name', 'port', 'folders', 'trusted', 'peers', 'smtp', 'schedule'] as const;
export const FOLDER_KEYS = ['id', 'path', 'role', 'shareWith', 'sync', 'versions'] as const;
const VERSIONS_KEYS = ['maxAge', 'keep'] as const;
const TRUSTED_KEYS = ['deviceId', 'name'] as const;

type Raw = Record<string, unknown>;

/** "36h", "90d", "8w" in milliseconds, or undefined when not such a duration. */
export function parseAge(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([hdw])\s*$/.exec(text);
  return m === null ? undefined : Number(m[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'h' | 'd' | 'w'];
}

/** `versions: {"maxAge": "90d", "keep": 5}`: retention of what sync replaces or deletes. */
function folderVersions(raw: unknown, at: JsonPath, issue: (p: JsonPath, message: string) => void): FolderConfig['versions'] {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    issue(at, `must be an object like {"maxAge": "90d", "keep": 5}, found ${kind(raw)}`);
    return undefined;
  }
  checkKeys(raw, VERSIONS_KEYS, at, issue);
  const out: NonNullable<FolderConfig['versions']> = {};
  const maxAge = raw['maxAge'];
  if (maxAge !== undefined) {
    if (typeof maxAge !== 'string' || parseAge(maxAge) === undefined) issue([...at, 'maxAge'], `must be a duration in hours, days or weeks like "36h", "90d" or "8w", found ${JSON.stringify(maxAge)}`);
    else out.maxAge = maxAge;
  }
  const keep = raw['keep'];
  if (keep !== undefined) {
    if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1) issue([...at, 'keep'], `must be a whole number of versions, 1 or more, found ${JSON.stringify(keep)}`);
    else out.keep = keep;
  }
  return out;
}

export function validateConfig(raw: unknown, hostname?: string): SynkerConfig {
  const issues: ConfigIssue[] = [];
  const issue = (p: JsonPath, message: string): void => {
    issues.push({ path: p, message });
  };
  const defaults = defaultConfig(hostname);

  if (!isObject(raw)) throw new ConfigValidationError([{ path: [], message: `the file must hold a JSON object ({...}), found ${kind(raw)}` }]);
  checkKeys(raw, TOP_KEYS, [], issue);

  if (raw['version'] !== CONFIG_VERSION) issue(['version'], `must be ${CONFIG_VERSION}`);

  let name = defaults.name;
  if (raw['name'] !== undefined) name = checkName(raw['name'], ['name'], issue) ?? name;

  let port = defaults.port;
  if (raw['port'] !== undefined) {
    const p = raw['port'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) issue(['port'], `must be a port number from 0 to 65535 (0: any free port), found ${JSON.stringify(p)}`);
    else port = p;
  }

  const trusted: TrustedDevice[] = [];
  const trustedIds = new Set<string>();
  const trustedNames = new Map<string, number>();
  const named: Array<{ index: number; deviceId: string; name: string }> = [];
  for (const [index, entry] of arrayAt(raw, 'trusted', issue)) {
    const at = ['trusted', index];
    if (!isObject(entry)) {
      issue(at, `must be an object like {"deviceId": "...", "name": "nas"}, found ${kind(entry)}`);
      continue;
    }
    checkKeys(entry, TRUSTED_KEYS, at, issue);
    let deviceId: string | undefined;
    try {
      if (typeof entry['deviceId'] !== 'string') throw new Error(entry['deviceId'] === undefined ? 'is missing' : `must be a string, found ${kind(entry['deviceId'])}`);
      deviceId = parseDeviceId(entry['deviceId']);
    } catch (err) {
      issue([...at, 'deviceId'], (err as Error).message);
    }
    if (deviceId !== undefined && trustedIds.has(deviceId)) issue([...at, 'deviceId'], 'this device is listed twice');
    let deviceName: string | undefined;
    if (entry['name'] !== undefined) {
      deviceName = checkName(entry['name'], [...at, 'name'], issue);
      if (deviceName !== undefined && isDeviceId(deviceName)) {
        issue([...at, 'name'], 'a name must not look like a device ID');
        deviceName = undefined;
      }
      const folded = deviceName?.toLowerCase();
      if (folded !== undefined && trustedNames.has(folded)) issue([...at, 'name'], `the name "${deviceName}" is already used by trusted[${trustedNames.get(folded)}]`);
      if (folded !== undefined) trustedNames.set(folded, index);
    }
    if (deviceId !== undefined && !trustedIds.has(deviceId)) {
      trustedIds.add(deviceId);
      trusted.push(deviceName === undefined ? { deviceId } : { deviceId, name: deviceName });
      if (deviceName !== undefined) named.push({ index, deviceId, name: deviceName });
    }
  }
  // Commands take a device's name or the first group of its ID: a name equal to
  // another device's first group would make that reference pick the wrong device.
  for (const { index, deviceId, name: deviceName } of named) {
    const shadowed = trusted.find((t) => t.deviceId !== deviceId && shortDeviceId(t.deviceId) === deviceName.toUpperCase());
    if (shadowed) {
      issue(['trusted', index, 'name'], `"${deviceName}" is the first group of the ID of another trusted device (${formatDeviceId(shadowed.deviceId)}), which commands accept as that device: pick another name`);
    }
  }

  const folders: FolderConfig[] = [];
  const folderIds = new Map<string, number>();
  const folderPaths = new Map<string, number>();
  for (const [index, entry] of arrayAt(raw, 'folders', issue)) {
    const at = ['folders', index];
    if (!isObject(entry)) {
      issue(at, `must be an object like {"id": "photos", "path": "/data/photos", "role": "source"}, found ${kind(entry)}`);
      continue;
    }
    checkKeys(entry, FOLDER_KEYS, at, issue);
    const id = entry['id'];
    let okId: string | undefined;
    if (typeof id !== 'string' || !FOLDER_ID_PATTERN.test(id)) {
      issue([...at, 'id'], id === undefined ? 'is missing' : `must be ${FOLDER_ID_RULE}, found ${JSON.stringify(id)}`);
    } else if (folderIds.has(id)) {
      issue([...at, 'id'], `"${id}" is already used by folders[${folderIds.get(id)}]`);
    } else {
      folderIds.set(id, index);
      okId = id;
    }
    const rawPath = entry['path'];
    let okPath: string | undefined;
    if (typeof rawPath !== 'string' || rawPath === '') {
      issue([...at, 'path'], rawPath === undefined ? 'is missing' : `must be a path, found ${JSON.stringify(rawPath)}`);
    } else {
      const expanded = expandHome(rawPath);
      if (!path.isAbsolute(expanded)) issue([...at, 'path'], `must be an absolute path (or start with ~/), found ${JSON.stringify(rawPath)}`);
      else {
        okPath = path.normalize(expanded);
        if (okPath.length > 1) okPath = okPath.replace(/[\\/]+$/, '');
        if (folderPaths.has(okPath)) issue([...at, 'path'], `${okPath} is already the path of folders[${folderPaths.get(okPath)}]`);
        else {
          for (const [other, otherIndex] of folderPaths) {
            const overlap = folderOverlap(okPath, other);
            if (overlap === 'inside' || overlap === 'contains') {
              issue([...at, 'path'], `${okPath} is ${overlapWords(overlap)} folders[${otherIndex}] (${other}): ${NESTING_RULE}`);
              break;
            }
          }
        }
        folderPaths.set(okPath, index);
      }
    }
    const role = typeof entry['role'] === 'string' ? parseRole(entry['role']) : undefined;
    if (role === undefined) {
      issue([...at, 'role'], entry['role'] === undefined ? 'is missing (source or backup)' : `must be "source" (or "master") or "backup" (or "slave"), found ${JSON.stringify(entry['role'])}`);
    }
    const shareWith: string[] = [];
    for (const [i, device] of arrayAt(entry, 'shareWith', issue, at)) {
      const where = [...at, 'shareWith', i];
      if (typeof device !== 'string') {
        issue(where, `must be a device ID string, found ${kind(device)}`);
        continue;
      }
      let deviceId: string;
      try {
        deviceId = parseDeviceId(device);
      } catch (err) {
        issue(where, (err as Error).message);
        continue;
      }
      if (!trustedIds.has(deviceId)) issue(where, 'this device is not in "trusted": trust it first (synker trust ID)');
      else if (shareWith.includes(deviceId)) issue(where, 'this device is listed twice');
      else shareWith.push(deviceId);
    }
    const sync = entry['sync'];
    if (sync !== undefined && typeof sync !== 'boolean') issue([...at, 'sync'], `must be true or false, found ${JSON.stringify(sync)}`);
    const versions = folderVersions(entry['versions'], [...at, 'versions'], issue);
    if (okId !== undefined && okPath !== undefined && role !== undefined) {
      folders.push({ id: okId, path: okPath, role, shareWith, ...(sync === true ? { sync } : {}), ...(versions === undefined ? {} : { versions }) });
    }
  }

  const peers: string[] = [];
  for (const [index, entry] of arrayAt(raw, 'peers', issue)) {
    if (typeof entry !== 'string') {
      issue(['peers', index], `must be a "host:port" string, found ${kind(entry)}`);
      continue;
    }
    const parsed = parsePeerAddress(entry);
    if (typeof parsed === 'string') issue(['peers', index], parsed);
    else if (peers.includes(entry.trim())) issue(['peers', index], `"${entry}" is listed twice`);
    else peers.push(entry.trim());
  }

  // Sections owned by other modules are checked by their own parsers (which name the key they refuse).
  const sections: Pick<SynkerConfig, 'smtp' | 'schedule'> = {};
  for (const [section, parse] of [
    ['smtp', parseSmtpSettings],
    ['schedule', parseScheduleSettings],
  ] as const) {
    const value = raw[section];
    if (value === undefined) continue;
    // The parsers stop at the first problem; every problem is listed at once by setting each
    // refused key aside (or, for a required one, standing in a valid value) and parsing again.
    let rest: unknown = isObject(value) ? { ...value } : value;
    const reported = new Set<string>();
    for (;;) {
      try {
        parse(rest);
        // A plain copy: the parser's objects have no prototype (so `__proto__` is just a key); JSON.parse keeps that safe.
        if (reported.size === 0) sections[section] = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
        break;
      } catch (err) {
        if (!(err instanceof SynkerError)) throw err;
        const key = new RegExp(`\\b${section}\\.(\\w+)`).exec(err.message)?.[1];
        if (key === undefined || !reported.has(key)) {
          const at: JsonPath = key !== undefined && isObject(value) && key in value ? [section, key] : [section];
          const prefix = `${section}.${key} `;
          issues.push({ path: at, message: at.length === 2 && err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message, ...(err.hint ? { hint: err.hint } : {}) });
        }
        if (key === undefined || !isObject(rest)) break;
        const standIn = STAND_INS[section][key];
        const next: Record<string, unknown> = { ...rest };
        if (!reported.has(key) && key in rest) delete next[key];
        else if (standIn !== undefined && rest[key] !== standIn) next[key] = standIn;
        else break;
        reported.add(key);
        rest = next;
      }
    }
  }

  if (issues.length > 0) throw new ConfigValidationError(issues);
  return { version: CONFIG_VERSION, name, port, folders, trusted, peers, ...sections };
}

/**
 * Valid values standing in for a required key the config gets wrong, so the
 * problems after it are found too.
 */
const STAND_INS: Record<'smtp' | 'schedule', Record<string, unknown>> = {
  smtp: { host: 'smtp.example.org', from: 'synker@example.org', to: ['synker@example.org'] },
  schedule: { check: '17 3 * * *' },
};

function checkName(value: unknown, at: JsonPath, issue: (p: JsonPath, m: string) => void): string | undefined {
  const problem = nameProblem(value);
  if (problem !== undefined) {
    issue(at, problem);
    return undefined;
  }
  return (value as string).trim();
}

function* arrayAt(obj: Raw, key: string, issue: (p: JsonPath, m: string) => void, at: JsonPath = []): Generator<[number, unknown]> {
  const value = obj[key];
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    issue([...at, key], `must be a list ([...]), found ${kind(value)}`);
    return;
  }
  for (let i = 0; i < value.length; i++) yield [i, value[i]];
}

function checkKeys(obj: Raw, known: readonly string[], at: JsonPath, issue: (p: JsonPath, m: string) => void): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    issue([...at, key], `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys here: ${known.join(', ')}`);
  }
}

/** The known key within edit distance 2 of a misspelt one. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
