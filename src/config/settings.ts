/**
 * The typed `smtp` and `schedule` settings of a config. validate.ts parses
 * each section once, when the config loads, and records the result here
 * against the section object it puts in the config; the parts that send mail
 * or schedule checks read it back with smtpSettingsOf / scheduleSettingsOf
 * instead of parsing the section again. The config itself keeps the sections
 * as the user wrote them, so a save writes back "30s", not 30000.
 *
 * A section that did not come through validateConfig (a config built in code,
 * as tests do) is parsed at its first use and remembered the same way; it
 * throws the parser's SmtpConfigError / ScheduleConfigError when it is wrong.
 */
import { parseScheduleSettings, type ScheduleSettings } from './schedule.js';
import { parseSmtpSettings, type SmtpSettings } from './smtp.js';
import type { SynkerConfig } from './types.js';

type Section = Readonly<Record<string, unknown>>;

const smtpOf = new WeakMap<Section, SmtpSettings>();
const scheduleOf = new WeakMap<Section, ScheduleSettings>();

/** For validate.ts: `section` (the object the config holds) parses to `settings`. Returns `section`. */
export function rememberSmtpSettings(section: Section, settings: SmtpSettings): Section {
  smtpOf.set(section, frozen(settings));
  return section;
}

/** For validate.ts: `section` (the object the config holds) parses to `settings`. Returns `section`. */
export function rememberScheduleSettings(section: Section, settings: ScheduleSettings): Section {
  scheduleOf.set(section, frozen(settings));
  return section;
}

/** How reports are e-mailed; undefined when the config has no `smtp` section (e-mail is not set up). */
export function smtpSettingsOf(config: Pick<SynkerConfig, 'smtp'>): Readonly<SmtpSettings> | undefined {
  const section = config.smtp;
  if (section === undefined) return undefined;
  const known = smtpOf.get(section);
  if (known !== undefined) return known;
  const settings = parseSmtpSettings(section);
  rememberSmtpSettings(section, settings);
  return settings;
}

/** When checks run and mail goes out; the defaults when the config has no `schedule` section. */
export function scheduleSettingsOf(config: Pick<SynkerConfig, 'schedule'>): Readonly<ScheduleSettings> {
  const section = config.schedule;
  if (section === undefined) return parseScheduleSettings(undefined);
  const known = scheduleOf.get(section);
  if (known !== undefined) return known;
  const settings = parseScheduleSettings(section);
  rememberScheduleSettings(section, settings);
  return settings;
}

/** Shared by every caller: frozen so none can change what the others read. */
function frozen<T extends object>(settings: T): T {
  for (const value of Object.values(settings)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(settings);
}
