/**
 * Dates and durations in e-mail words: "3 Nov 2025, 03:17 CET", "3 Nov",
 * "2 days and 23 hours", in the context's time zone.
 */
import { formatAge } from '../base/units.js';
import type { EmailContext } from './context.js';

export function formatDate(iso: string | Date, ctx: EmailContext): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    ...(ctx.timeZone !== undefined ? { timeZone: ctx.timeZone } : {}),
  }).format(date);
}

/** "3 Nov", with the year only when it is not this year. */
export function shortDate(iso: string, ctx: EmailContext): string {
  const date = new Date(iso);
  const tz = ctx.timeZone !== undefined ? { timeZone: ctx.timeZone } : {};
  const year = (d: Date) => new Intl.DateTimeFormat('en-GB', { year: 'numeric', ...tz }).format(d);
  return new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'short',
    ...(year(date) !== year(ctx.now) ? { year: 'numeric' } : {}),
    ...tz,
  }).format(date);
}

/** How long since `iso`, rounded to what a person would say: "3 minutes", "5 hours", "2 days and 23 hours". */
export function ago(iso: string, now: Date): string {
  return formatAge(now.getTime() - Date.parse(iso));
}
