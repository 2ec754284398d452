/**
 * Schema check of a (migrated) raw config: returns a complete SynkerConfig
 * with defaults filled in and values normalised (device IDs canonical, role
 * aliases resolved, `~` expanded), or every problem found, each with the key
 * path it is about. Unknown keys are refused (with a suggestion) because a
 * misspelt key would otherwise be silently ignored (raw-checks.ts). The
 * `smtp` and `schedule` sections are checked by their own parsers
 * (validate-sections.ts), and the settings they parse are remembered for
 * smtpSettingsOf / scheduleSettingsOf (settings.ts).
 */
import path from 'node:path';
import { parseSmtpSettings } from './smtp.js';
import { parseScheduleSettings } from './schedule.js';
import { rememberScheduleSettings, rememberSmtpSettings } from './settings.js';
import { checkSection, plainCopy } from './validate-sections.js';
import { arrayAt, checkKeys, isObject, kind } from './raw-checks.js';
import { formatDeviceId, isDeviceId, parseDeviceId, shortDeviceId } from '../identity/device-id.js';
import { CONFIG_VERSION, defaultConfig } from './defaults.js';
import type { JsonPath } from './json-source.js';
import { nameProblem } from './device-name.js';
import {
  configFolderPathProblem,
  expandHome,
  FOLDER_ID_PATTERN,
  FOLDER_ID_RULE,
  folderOverlap,
  NESTING_RULE,
  overlapWords,
} from './folder-rules.js';
import { parsePeerAddress } from './peer-address.js';
import { checkWebSection } from './web.js';
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

const TOP_KEYS = ['version', 'name', 'port', 'folders', 'trusted', 'peers', 'smtp', 'schedule', 'web'] as const;
export const FOLDER_KEYS = ['id', 'path', 'role', 'shareWith', 'sync', 'mirror', 'versions'] as const;
const VERSIONS_KEYS = ['maxAge', 'keep'] as const;
const TRUSTED_KEYS = ['deviceId', 'name'] as const;

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
  const maxAge = raw.maxAge;
  if (maxAge !== undefined) {
    if (typeof maxAge !== 'string' || parseAge(maxAge) === undefined)
      issue([...at, 'maxAge'], `must be a duration in hours, days or weeks like "36h", "90d" or "8w", found ${JSON.stringify(maxAge)}`);
    else out.maxAge = maxAge;
  }
  const keep = raw.keep;
  if (keep !== undefined) {
    if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1)
      issue([...at, 'keep'], `must be a whole number of versions, 1 or more, found ${JSON.stringify(keep)}`);
    else out.keep = keep;
  }
  return out;
}

export function validateConfig(raw: unknown, hostname?: string): SynkerConfig {
  const issues: ConfigIssue[] = [];
  const issue = (p: JsonPath, message: string, hint?: string): void => {
    issues.push({ path: p, message, ...(hint ? { hint } : {}) });
  };
  const defaults = defaultConfig(hostname);

  if (!isObject(raw))
    throw new ConfigValidationError([{ path: [], message: `the file must hold a JSON object ({...}), found ${kind(raw)}` }]);
  checkKeys(raw, TOP_KEYS, [], issue);

  if (raw.version !== CONFIG_VERSION) issue(['version'], `must be ${CONFIG_VERSION}`);

  let name = defaults.name;
  if (raw.name !== undefined) name = checkName(raw.name, ['name'], issue) ?? name;

  let port = defaults.port;
  if (raw.port !== undefined) {
    const p = raw.port;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535)
      issue(['port'], `must be a port number from 0 to 65535 (0: any free port), found ${JSON.stringify(p)}`);
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
      if (typeof entry.deviceId !== 'string')
        throw new Error(entry.deviceId === undefined ? 'is missing' : `must be a string, found ${kind(entry.deviceId)}`);
      deviceId = parseDeviceId(entry.deviceId);
    } catch (err) {
      issue([...at, 'deviceId'], (err as Error).message);
    }
    if (deviceId !== undefined && trustedIds.has(deviceId)) issue([...at, 'deviceId'], 'this device is listed twice');
    let deviceName: string | undefined;
    if (entry.name !== undefined) {
      deviceName = checkName(entry.name, [...at, 'name'], issue);
      if (deviceName !== undefined && isDeviceId(deviceName)) {
        issue([...at, 'name'], 'a name must not look like a device ID');
        deviceName = undefined;
      }
      const folded = deviceName?.toLowerCase();
      if (folded !== undefined && trustedNames.has(folded))
        issue([...at, 'name'], `the name "${deviceName}" is already used by trusted[${trustedNames.get(folded)}]`);
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
      issue(
        ['trusted', index, 'name'],
        `"${deviceName}" is the first group of the ID of another trusted device (${formatDeviceId(shadowed.deviceId)}), which commands accept as that device: pick another name`,
      );
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
    const id = entry.id;
    let okId: string | undefined;
    if (typeof id !== 'string' || !FOLDER_ID_PATTERN.test(id)) {
      issue([...at, 'id'], id === undefined ? 'is missing' : `must be ${FOLDER_ID_RULE}, found ${JSON.stringify(id)}`);
    } else if (folderIds.has(id)) {
      issue([...at, 'id'], `"${id}" is already used by folders[${folderIds.get(id)}]`);
    } else {
      folderIds.set(id, index);
      okId = id;
    }
    const rawPath = entry.path;
    let okPath: string | undefined;
    if (typeof rawPath !== 'string' || rawPath === '') {
      issue([...at, 'path'], rawPath === undefined ? 'is missing' : `must be a path, found ${JSON.stringify(rawPath)}`);
    } else {
      const expanded = expandHome(rawPath);
      const problem = configFolderPathProblem(rawPath);
      if (problem) issue([...at, 'path'], problem.message, problem.hint);
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
    const role = typeof entry.role === 'string' ? parseRole(entry.role) : undefined;
    if (role === undefined) {
      issue(
        [...at, 'role'],
        entry.role === undefined
          ? 'is missing (source or backup)'
          : `must be "source" (or "master") or "backup" (or "slave"), found ${JSON.stringify(entry.role)}`,
      );
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
    const sync = entry.sync;
    if (sync !== undefined && typeof sync !== 'boolean') issue([...at, 'sync'], `must be true or false, found ${JSON.stringify(sync)}`);
    const mirror = entry.mirror;
    if (mirror !== undefined && typeof mirror !== 'boolean')
      issue([...at, 'mirror'], `must be true or false, found ${JSON.stringify(mirror)}`);
    const versions = folderVersions(entry.versions, [...at, 'versions'], issue);
    if (okId !== undefined && okPath !== undefined && role !== undefined) {
      folders.push({
        id: okId,
        path: okPath,
        role,
        shareWith,
        ...(sync === true ? { sync } : {}),
        ...(mirror === true ? { mirror } : {}),
        ...(versions === undefined ? {} : { versions }),
      });
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

  // Sections owned by other modules are checked by their own parsers, here and only here: the config
  // keeps them as written (a save writes back "30s"), the parsed settings are remembered (settings.ts).
  const smtp = checkSection('smtp', raw.smtp, parseSmtpSettings, issue);
  const schedule = checkSection('schedule', raw.schedule, parseScheduleSettings, issue);
  const web = checkWebSection(raw.web, issue);

  if (issues.length > 0) throw new ConfigValidationError(issues);
  return {
    version: CONFIG_VERSION,
    name,
    port,
    folders,
    trusted,
    peers,
    ...(smtp === undefined ? {} : { smtp: rememberSmtpSettings(plainCopy(raw.smtp), smtp) }),
    ...(schedule === undefined ? {} : { schedule: rememberScheduleSettings(plainCopy(raw.schedule), schedule) }),
    ...(web === undefined ? {} : { web }),
  };
}

function checkName(value: unknown, at: JsonPath, issue: (p: JsonPath, m: string) => void): string | undefined {
  const problem = nameProblem(value);
  if (problem !== undefined) {
    issue(at, problem);
    return undefined;
  }
  return (value as string).trim();
}
