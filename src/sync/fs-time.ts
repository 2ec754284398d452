/**
 * Manifest times are whole milliseconds. utimes() takes float seconds and
 * libuv splits them into seconds and nanoseconds, where float error can land
 * one nanosecond *below* the millisecond (…122.999999 ms), which reads back
 * as the previous millisecond. Half a microsecond on top keeps every
 * millisecond exact, and is below what any file system compares.
 */
export function fsTime(ms: number): number {
  return ms / 1000 + 5e-7;
}
