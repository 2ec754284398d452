/**
 * The `schedule` section of the config: when the backup agent checks its
 * folders and when it sends e-mail. Defaults are what a person who set up a
 * backup and forgot about it needs: a daily check at a quiet hour, mail only
 * when something is wrong, an alert when the backup could not be verified
 * for three days. Documented in docs/configuration.md.
 */
import { Cron } from 'croner';
import { parseDuration } from '../base/duration.js';
import { SettingError } from './config-error.js';

/** on-difference: mail when a check finds differences (and once when it is complete again); always: every check; never: no mail. */
export type EmailPolicy = 'on-difference' | 'always' | 'never';

export interface ScheduleSettings {
  /** Cron expression (5 fields, or 6 with seconds), in `timezone` or local time. */
  check: string;
  timezone?: string;
  email: EmailPolicy;
  /** Alert when no check has succeeded for this long (ms); 0 turns the alert off. */
  staleAfterMs: number;
  /** After a failed check (source unreachable), try again this soon (ms). */
  retryAfterMs: number;
  /** How often the agent retries the outbox while it holds messages (ms). */
  outboxRetryMs: number;
  /** A check missed while the machine slept or synker was stopped runs this long after start/wake (ms). */
  catchUpDelayMs: number;
}

/** 03:17 local time: a quiet hour, off the full hour when every other cron job starts. */
export const DEFAULT_CHECK_SCHEDULE = '17 3 * * *';

export const DEFAULT_SCHEDULE: ScheduleSettings = {
  check: DEFAULT_CHECK_SCHEDULE,
  email: 'on-difference',
  staleAfterMs: 3 * 86_400_000,
  retryAfterMs: 3_600_000,
  outboxRetryMs: 15 * 60_000,
  catchUpDelayMs: 2 * 60_000,
};

/** A wrong schedule setting; `key` names it (`schedule.check`) when the error is about one. */
export class ScheduleConfigError extends SettingError {
  constructor(message: string, hint: string, options: { key?: string; cause?: unknown } = {}) {
    super('E_SCHEDULE_CONFIG', message, { hint, ...options });
  }
}

const KNOWN_KEYS = ['check', 'timezone', 'email', 'staleAfter', 'retryAfter', 'outboxRetry', 'catchUpDelay'];

function duration(key: string, value: unknown, fallback: number, allowOff: boolean): number {
  if (value === undefined) return fallback;
  if (allowOff && (value === 'off' || value === false || value === 0)) return 0;
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error('not a duration');
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('not positive');
    return ms;
  } catch (err) {
    throw new ScheduleConfigError(
      `schedule.${key} is not a duration: ${JSON.stringify(value)}`,
      `Use a value like "3d", "12h", "15m"${allowOff ? ', or "off"' : ''}.`,
      { key: `schedule.${key}`, cause: err },
    );
  }
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Throws a ScheduleConfigError naming schedule.check when the expression is not valid cron. */
export function createCron(expression: string, timezone?: string): Cron {
  try {
    const cron = new Cron(expression, { paused: true, mode: '5-or-6-parts', ...(timezone !== undefined ? { timezone } : {}) });
    if (cron.nextRun(new Date()) === null) throw new Error('it never runs');
    return cron;
  } catch (err) {
    throw new ScheduleConfigError(
      `schedule.check "${expression}"${timezone ? ` (timezone ${timezone})` : ''} is not a usable schedule: ${(err as Error).message}`,
      'Use a cron expression such as "17 3 * * *" (daily at 03:17) or "0 */6 * * *" (every 6 hours), and an IANA timezone like "Europe/Berlin".',
      { key: 'schedule.check', cause: err },
    );
  }
}

export function parseScheduleSettings(raw: unknown): ScheduleSettings {
  if (raw === undefined) return { ...DEFAULT_SCHEDULE };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScheduleConfigError('the schedule section of the config must be an object', 'See docs/configuration.md, section "schedule".');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!KNOWN_KEYS.includes(key))
      throw new ScheduleConfigError(`unknown setting schedule.${key}`, `Known settings: ${KNOWN_KEYS.join(', ')}.`, {
        key: `schedule.${key}`,
      });
  }
  const check = obj.check ?? DEFAULT_CHECK_SCHEDULE;
  if (typeof check !== 'string')
    throw new ScheduleConfigError('schedule.check must be a cron expression string', 'E.g. "17 3 * * *" for daily at 03:17.', {
      key: 'schedule.check',
    });
  const timezone = obj.timezone;
  if (timezone !== undefined && typeof timezone !== 'string')
    throw new ScheduleConfigError('schedule.timezone must be a string', 'E.g. "Europe/Berlin"; leave it out for local time.', {
      key: 'schedule.timezone',
    });
  if (timezone !== undefined && !isTimeZone(timezone)) {
    throw new ScheduleConfigError(
      `schedule.timezone is not a known time zone: ${JSON.stringify(timezone)}`,
      'Use an IANA time zone name like "Europe/Berlin" or "America/New_York"; leave it out for local time.',
      { key: 'schedule.timezone' },
    );
  }
  createCron(check, timezone);
  const email = obj.email ?? 'on-difference';
  if (email !== 'on-difference' && email !== 'always' && email !== 'never') {
    throw new ScheduleConfigError(
      `schedule.email must be "on-difference", "always" or "never", not ${JSON.stringify(email)}`,
      '"on-difference" mails only when the backup is incomplete (and once when it is complete again).',
      { key: 'schedule.email' },
    );
  }
  const settings: ScheduleSettings = {
    check,
    email,
    staleAfterMs: duration('staleAfter', obj.staleAfter, DEFAULT_SCHEDULE.staleAfterMs, true),
    retryAfterMs: duration('retryAfter', obj.retryAfter, DEFAULT_SCHEDULE.retryAfterMs, false),
    outboxRetryMs: duration('outboxRetry', obj.outboxRetry, DEFAULT_SCHEDULE.outboxRetryMs, false),
    catchUpDelayMs:
      obj.catchUpDelay === 0 || obj.catchUpDelay === '0'
        ? 0
        : duration('catchUpDelay', obj.catchUpDelay, DEFAULT_SCHEDULE.catchUpDelayMs, false),
  };
  if (timezone !== undefined) settings.timezone = timezone;
  return settings;
}
