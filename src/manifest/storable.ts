/**
 * Which names a destination's file system can hold, one rule for check,
 * sync and restore (docs/platforms.md). A name the destination cannot hold
 * is reported by the check ("cannot be stored on this backup") and skipped
 * by sync and restore with that reason: never a failed write, never a partial
 * file left behind.
 * - Windows (NTFS, FAT, exFAT through Windows): none of `<>:"|?*` or control
 *   characters (`a:b` would even name an NTFS alternate data stream of `a`);
 *   not a device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9), also with an
 *   extension (`con.txt`) and in any case; no trailing dot or space (Windows
 *   trims them, so `name.` would land as `name`); at most 255 UTF-16 code
 *   units. `/` and `\` never reach here: manifest paths refuse them.
 * - POSIX (Linux, macOS): at most 255 bytes of UTF-8 a name (ext4, btrfs,
 *   XFS, APFS); `a:b`, `what?` and `CON.txt` are ordinary names.
 */

import { printablePath } from '../base/printable.js';

export type NameRules = 'windows' | 'posix';

/** The rules of the file systems this platform writes to. */
export function nameRulesOf(platform: NodeJS.Platform = process.platform): NameRules {
  return platform === 'win32' ? 'windows' : 'posix';
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const WINDOWS_BAD_CHAR = /[<>:"|?*\u0000-\u001f]/;
const NAME_MAX = 255;

/** Why Windows cannot hold this one name (not a path), or undefined when it can. */
export function windowsNameProblem(name: string): string | undefined {
  const bad = WINDOWS_BAD_CHAR.exec(name);
  if (bad !== null) {
    const c = bad[0];
    return c < ' ' ? 'a control character is not allowed in Windows names' : `${c} is not allowed in Windows names`;
  }
  if (name.endsWith('.') || name.endsWith(' ')) return 'Windows drops a trailing dot or space from names';
  const device = WINDOWS_RESERVED.exec(name.trimEnd());
  if (device !== null) return `${device[1]!.toUpperCase()} is a device name on Windows, also with an extension`;
  if (name.length > NAME_MAX) return `longer than the ${NAME_MAX} characters a Windows name holds`;
  return undefined;
}

/** How a file system compares names: without case (`Foo` is `foo`), and/or NFC and NFD spellings as one. */
export interface NameFolding {
  case: boolean;
  normalization: boolean;
}

/** Both: what macOS (APFS, HFS+) does by default, and what a name clash is judged by. */
export const FOLD_ALL: NameFolding = { case: true, normalization: true };

const PLAIN_ASCII = 0;
const CAPITALS = 1;
const NOT_ASCII = 2;

/** PLAIN_ASCII (no capital A-Z), CAPITALS (ASCII with a capital) or NOT_ASCII. */
function asciiCase(name: string): number {
  let found = PLAIN_ASCII;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f) return NOT_ASCII;
    if (c >= 0x41 && c <= 0x5a) found = CAPITALS;
  }
  return found;
}

/** A name as a file system that folds it so sees it: names with the same key are one name there. */
export function foldName(name: string, folding: NameFolding = FOLD_ALL): string {
  // Most names are ASCII, where normalisation changes nothing: skip its cost (a diff folds every name).
  // Most of those have no capital either: they are their own key, with no new string made.
  const ascii = asciiCase(name);
  if (ascii === PLAIN_ASCII) return name;
  if (ascii === CAPITALS) return folding.case ? name.toLowerCase() : name;
  let key = folding.normalization ? name.normalize('NFC') : name;
  if (folding.case) key = key.toLowerCase();
  return folding.normalization && folding.case ? key.normalize('NFC') : key;
}

/**
 * Whether two different paths name one file under these rules: Windows
 * compares names without case (NTFS and FAT as Windows mounts them), so
 * `Report.txt` and `report.txt` are one there. (POSIX: never; a macOS disk
 * that ignores case is found by the sync's probe of the folder.)
 */
export function sameNameOnDisk(a: string, b: string, rules: NameRules): boolean {
  const windows: NameFolding = { case: true, normalization: false };
  return rules === 'windows' && a !== b && foldName(a, windows) === foldName(b, windows);
}

/** Why `relPath` (a manifest path, `/`-separated, as it is on disk) cannot be stored under these rules, naming the component; undefined when it can. */
export function unstorableReason(relPath: string, rules: NameRules): string | undefined {
  for (const name of relPath.split('/')) {
    const problem =
      rules === 'windows'
        ? windowsNameProblem(name)
        : Buffer.byteLength(name) > NAME_MAX
          ? `longer than ${NAME_MAX} bytes, the most a name holds`
          : undefined;
    if (problem !== undefined) return name === relPath ? problem : `"${printablePath(name)}": ${problem}`;
  }
  return undefined;
}
