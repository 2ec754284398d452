/**
 * Reading and writing the user config file. Loading: parse (with positions),
 * migrate to the current version, validate; any problem is a ConfigError
 * naming the file, line, column and key. A missing file means "all
 * defaults". Writing: fixed key order, 2-space JSON, atomic, mode 0600
 * (the file lists the devices this one trusts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import { throughAFile } from '../base/file-in-the-way.js';
import { writeFileAtomic } from '../base/atomic-file.js';
import { makeConfigDir } from '../dirs/config-dir.js';
import { ConfigError } from './config-error.js';
import { CONFIG_VERSION, defaultConfig } from './defaults.js';
import { formatJsonPath, JsonSyntaxError, parseJsonWithLocations } from './json-source.js';
import { migrateConfig, UnsupportedVersionError } from './migrate.js';
import type { SynkerConfig } from './types.js';
import { ConfigValidationError, validateConfig } from './validate.js';

export interface LoadedConfig {
  config: SynkerConfig;
  /** False when there is no file yet (the config is all defaults). */
  exists: boolean;
  /** The version the file was written in (before migration). */
  fromVersion: number;
  /** The file's text as read (undefined when there is no file). */
  text: string | undefined;
}

const HINT = 'Fix the file by hand (docs/configuration.md lists every key), or move it away to start from defaults.';
const BACKSLASH_HINT =
  'In JSON a backslash starts an escape: double each backslash of a Windows path ("C:\\\\Users\\\\ann\\\\Pictures") or write / ("C:/Users/ann/Pictures").';

/**
 * 'UTF-16LE' or 'UTF-16BE' when the bytes are UTF-16 text (PowerShell 5's
 * `>` and Out-File, Notepad's "Unicode"): a byte order mark FF FE or FE FF,
 * or, without one, a zero byte beside every character of the first ones (a
 * config starts with ASCII). 'UTF-32LE' / 'UTF-32BE' for UTF-32's marks
 * (FF FE 00 00 begins with UTF-16LE's), or without one three zero bytes
 * beside every character. Undefined otherwise: a file of zero bytes (a crash
 * mid-write) is damaged, not UTF-16.
 */
export function wideEncoding(bytes: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | 'UTF-32LE' | 'UTF-32BE' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) return 'UTF-32LE';
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) return 'UTF-32BE';
  const quads = Math.min(Math.floor(bytes.length / 4), 16);
  if (quads > 0) {
    let le32 = true;
    let be32 = true;
    for (let k = 0; k < quads; k++) {
      const [a, b, c, d] = [bytes[4 * k]!, bytes[4 * k + 1]!, bytes[4 * k + 2]!, bytes[4 * k + 3]!];
      le32 &&= a !== 0 && b === 0 && c === 0 && d === 0;
      be32 &&= a === 0 && b === 0 && c === 0 && d !== 0;
    }
    if (le32) return 'UTF-32LE';
    if (be32) return 'UTF-32BE';
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'UTF-16LE';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'UTF-16BE';
  const pairs = Math.min(Math.floor(bytes.length / 2), 32);
  if (pairs === 0) return undefined;
  let le = true;
  let be = true;
  for (let k = 0; k < pairs; k++) {
    const a = bytes[2 * k]!;
    const b = bytes[2 * k + 1]!;
    le &&= a !== 0 && b === 0;
    be &&= a === 0 && b !== 0;
  }
  return le ? 'UTF-16LE' : be ? 'UTF-16BE' : undefined;
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { config: defaultConfig(), exists: false, fromVersion: CONFIG_VERSION, text: undefined };
    // A path through a file: not a question of reading rights; say which part is a file.
    const inTheWay = errnoCode(err) === 'ENOTDIR' ? throughAFile(file) : undefined;
    if (inTheWay !== undefined) {
      throw new ConfigError('E_CONFIG_UNREADABLE', file, `cannot read the config file: ${inTheWay}`, {
        cause: err,
        hint: 'Move that file out of the way, or give a config path (--config, SYNKER_HOME) whose parents are folders.',
      });
    }
    if (errnoCode(err) === 'EISDIR') {
      throw new ConfigError('E_CONFIG_UNREADABLE', file, 'cannot read the config file: it is a folder, not a file', {
        cause: err,
        hint: 'Give the path of the config file itself (--config FILE), e.g. config.json inside that folder.',
      });
    }
    throw new ConfigError('E_CONFIG_UNREADABLE', file, `cannot read the config file: ${(err as Error).message}`, {
      cause: err,
      hint: 'Check that the file is readable by the user running synker.',
    });
  }
  const wide = wideEncoding(bytes);
  if (wide !== undefined) {
    throw new ConfigError('E_CONFIG_SYNTAX', file, `the file is saved as ${wide} text; synker reads UTF-8`, {
      hint: 'Save it as UTF-8: in Notepad, Save As with Encoding "UTF-8"; in PowerShell, Set-Content -Encoding utf8 (5.1\'s > writes UTF-16).',
    });
  }
  const text = bytes.toString('utf8');
  return { ...parseConfigText(text, file), exists: true, text };
}

/** Parse, migrate and validate config text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string): { config: SynkerConfig; fromVersion: number } {
  let parsed;
  try {
    parsed = parseJsonWithLocations(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const hint = err.reason === 'escape' ? BACKSLASH_HINT : HINT;
    return fail(new ConfigError('E_CONFIG_SYNTAX', file, `invalid JSON: ${err.message}`, { position: err.position, hint }));
  }
  const raw = parsed.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(
      new ConfigError('E_CONFIG_INVALID', file, 'the file must hold a JSON object ({...})', { position: parsed.locate([]), hint: HINT }),
    );
  }
  let migrated;
  try {
    migrated = migrateConfig(raw as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof UnsupportedVersionError)) throw err;
    return fail(
      new ConfigError('E_CONFIG_VERSION', file, err.message, {
        position: parsed.locate(['version']),
        key: 'version',
        hint: 'Upgrade synker, or fix the version key.',
      }),
    );
  }
  try {
    return { config: validateConfig(migrated.raw), fromVersion: migrated.from };
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    const [first, ...rest] = err.issues;
    const lines = rest.map((issue) => {
      const at = parsed.locate(issue.path);
      return `\n${printablePath(file)}${at ? `:${at.line}:${at.column}` : ''}: ${formatJsonPath(issue.path)}: ${issue.message}`;
    });
    const position = parsed.locate(first!.path);
    return fail(
      new ConfigError('E_CONFIG_INVALID', file, first!.message + lines.join(''), {
        ...(position ? { position } : {}),
        key: formatJsonPath(first!.path),
        hint: first!.hint ?? HINT,
      }),
    );
  }
}

function fail(err: ConfigError): never {
  throw err;
}

/** The file's text: fixed key order so diffs of hand edits stay readable. */
export function serializeConfig(config: SynkerConfig): string {
  const ordered = {
    version: config.version,
    name: config.name,
    port: config.port,
    // Every folder key the config takes (validate.ts FOLDER_KEYS): a setting left out here is lost at the next edit.
    folders: config.folders.map((f) => ({
      id: f.id,
      path: f.path,
      role: f.role,
      shareWith: [...f.shareWith],
      ...(f.sync === undefined ? {} : { sync: f.sync }),
      ...(f.mirror === undefined ? {} : { mirror: f.mirror }),
      ...(f.versions === undefined ? {} : { versions: { ...f.versions } }),
    })),
    trusted: config.trusted.map((t) => (t.name === undefined ? { deviceId: t.deviceId } : { deviceId: t.deviceId, name: t.name })),
    peers: [...config.peers],
    ...(config.smtp === undefined ? {} : { smtp: config.smtp }),
    ...(config.schedule === undefined ? {} : { schedule: config.schedule }),
    ...(config.web === undefined ? {} : { web: { ...config.web } }),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

export async function saveConfigFile(file: string, config: SynkerConfig): Promise<void> {
  await makeConfigDir(path.dirname(file));
  await writeFileAtomic(file, serializeConfig(config), { mode: 0o600, exactMode: true });
}
