/**
 * Config format versions. Each migration turns version N into N+1 on the raw
 * parsed JSON, before validation; loading applies them in order, and the
 * file is rewritten in the current version the next time synker saves it
 * (the original is kept beside it as `config.json.v<N>`).
 *
 * - v0: a file without a `version` key (hand-written before versions
 *   existed). `trusted` may list plain device-ID strings.
 * - v1: `version: 1`; every `trusted` entry is an object `{deviceId, name?}`.
 */
import { CONFIG_VERSION } from './defaults.js';

type RawConfig = Record<string, unknown>;
type Migration = (raw: RawConfig) => RawConfig;

export const MIGRATIONS: Readonly<Record<number, Migration>> = {
  0: (raw) => {
    const out: RawConfig = { ...raw, version: 1 };
    if (Array.isArray(raw.trusted)) {
      out.trusted = raw.trusted.map((entry: unknown) => (typeof entry === 'string' ? { deviceId: entry } : entry));
    }
    return out;
  },
};

export class UnsupportedVersionError extends Error {
  constructor(readonly found: unknown) {
    super(
      typeof found === 'number' && Number.isInteger(found) && found > CONFIG_VERSION
        ? `version ${found} was written by a newer synker; this one understands versions up to ${CONFIG_VERSION}`
        : `version must be a whole number from 0 to ${CONFIG_VERSION}, found ${JSON.stringify(found)}`,
    );
  }
}

/** The version a raw config declares (0 when it has none). Throws UnsupportedVersionError. */
export function versionOf(raw: RawConfig): number {
  const version = raw.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > CONFIG_VERSION) {
    throw new UnsupportedVersionError(version);
  }
  return version;
}

/** Bring a raw config of any supported version to CONFIG_VERSION. */
export function migrateConfig(
  raw: RawConfig,
  migrations: Readonly<Record<number, Migration>> = MIGRATIONS,
): { raw: RawConfig; from: number } {
  const from = versionOf(raw);
  let current = raw;
  for (let v = from; v < CONFIG_VERSION; v++) {
    const step = migrations[v];
    if (!step) throw new Error(`no migration from config version ${v}`);
    current = step(current);
  }
  return { raw: current, from };
}
