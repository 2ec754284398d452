/**
 * File names that would do harm if they reached a terminal raw: ESC
 * sequences (a screen clear, colour, a carriage return over the line), an
 * OSC window title, the C1 CSI U+009B, U+202E (right-to-left override), a
 * newline starting what reads like a report line of its own, and a tab.
 * Every renderer of names must show them escaped (src/base/printable.ts).
 */
export const TERMINAL_HOSTILE_NAMES: readonly string[] = [
  'esc\u001b[2J\u001b[31mEVIL\rFAKE',
  'osc\u001b]0;TITLE\u0007',
  'c1\u009b31mRED',
  'rlo\u202Egpj.exe',
  'nl\nMissing on backup (999)',
  'tab\there',
];
