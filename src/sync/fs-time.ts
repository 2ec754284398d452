/**
 * Manifest times are whole milliseconds; utimes() takes float seconds, which
 * libuv splits into seconds and nanoseconds. A double near today's dates
 * resolves about 240 ns, so the split can fall a little *below* the
 * millisecond (…122.99988 ms), which every reader that truncates to
 * milliseconds (synker's scan among them) takes for the previous one.
 * Half a microsecond on top keeps each time inside its own millisecond:
 * - libuv before 1.52 (Node 20, 22) cuts to whole microseconds: the half
 *   microsecond is cut away again and the time lands exactly;
 * - libuv 1.52 (Node 24) keeps nanoseconds (libuv #4951): the time lands
 *   within a microsecond above the millisecond. Landing exactly on it is not
 *   possible through Node's float-seconds API there (the plain quotient
 *   misses by up to ±120 ns, either way).
 * Either way the millisecond read back is the one sent (test/unit/fs-time).
 *
 * Before 1970 a time goes as a Date: Node takes a negative number of
 * seconds for "now" (a photo scanned from 1969 would land dated today).
 */
export function fsTime(ms: number): number | Date {
  return ms < 0 ? new Date(ms) : ms / 1000 + 5e-7;
}
