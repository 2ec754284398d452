/**
 * The `smtp` and `schedule` sections in validateConfig: each is checked by its
 * own parser (smtp.ts, schedule.ts), the one place its rules live. A parser
 * stops at the first problem and names the setting in SettingError.key; to
 * list every problem at once, the refused setting is set aside (or, for a
 * required one, a valid value stands in) and the section parsed again.
 */
import { SynkerError } from '../base/errors.js';
import { SettingError } from './config-error.js';
import type { JsonPath } from './json-source.js';
import { isObject, type Raw } from './raw-checks.js';

type Section = 'smtp' | 'schedule';

/**
 * Valid values standing in for a required key the config gets wrong, so the
 * problems after it are found too.
 */
const STAND_INS: Record<Section, Record<string, unknown>> = {
  smtp: { host: 'smtp.example.org', from: 'synker@example.org', to: ['synker@example.org'] },
  schedule: { check: '17 3 * * *' },
};

/** The section's settings; undefined when it is absent or wrong (every problem reported through `issue`). */
export function checkSection<T>(
  section: Section,
  value: unknown,
  parse: (raw: unknown) => T,
  issue: (at: JsonPath, message: string, hint?: string) => void,
): T | undefined {
  if (value === undefined) return undefined;
  let rest: unknown = isObject(value) ? { ...value } : value;
  const reported = new Set<string>();
  for (;;) {
    try {
      const settings = parse(rest);
      return reported.size === 0 ? settings : undefined;
    } catch (err) {
      if (!(err instanceof SynkerError)) throw err;
      const key = settingName(err, section);
      if (key === undefined || !reported.has(key)) {
        const at: JsonPath = key !== undefined && isObject(value) && key in value ? [section, key] : [section];
        const prefix = `${section}.${key} `;
        issue(at, at.length === 2 && err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message, err.hint);
      }
      if (key === undefined || !isObject(rest)) return undefined;
      const standIn = STAND_INS[section][key];
      const next: Raw = { ...rest };
      if (!reported.has(key) && key in rest) delete next[key];
      else if (standIn !== undefined && rest[key] !== standIn) next[key] = standIn;
      else return undefined;
      reported.add(key);
      rest = next;
    }
  }
}

/** `port` for an error about `smtp.port`: read from the error's key, never from its message. */
function settingName(err: SynkerError, section: Section): string | undefined {
  const key = err instanceof SettingError ? err.key : undefined;
  return key?.startsWith(`${section}.`) ? key.slice(section.length + 1) : undefined;
}

/**
 * The section as the config keeps it: a plain copy. The parser's objects have
 * no prototype (so `__proto__` is just a key); JSON.parse keeps that safe.
 */
export function plainCopy(value: unknown): Raw {
  return JSON.parse(JSON.stringify(value)) as Raw;
}
