/**
 * The manifest entry: one per file, directory, symlink or unreadable item
 * under a folder root. Shared by scan (producer), protocol (wire form) and
 * diff (consumer). Every field is documented in docs/manifest.md.
 */
export const ENTRY_TYPES = ['file', 'dir', 'symlink', 'error'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/**
 * - `nfc-clash`: another entry in the same folder has the same NFC key
 *   (two raw names that normalise alike; possible on Linux).
 * - `windows-name`: the name would break on Windows (reserved device name,
 *   `<>:"|?*`, a control character, a trailing dot or space).
 * - `unstable`: the file kept changing while it was hashed; it has no hash.
 * - `silent-change`: a re-hash (verify) found content other than the hash
 *   cache recorded, while size, mtime, ctime and inode are all unchanged:
 *   bit rot, a failing disk, or a write that went around the file system.
 */
export const ENTRY_FLAGS = ['nfc-clash', 'windows-name', 'unstable', 'silent-change'] as const;
export type EntryFlag = (typeof ENTRY_FLAGS)[number];

export interface ManifestEntry {
  /** Comparison key: POSIX path relative to the root, Unicode NFC, no leading `/`. */
  path: string;
  type: EntryType;
  /** Bytes for files; 0 for everything else. */
  size: number;
  /** Modification time, integer milliseconds since the epoch. */
  mtime: number;
  /** Permission bits (`st_mode & 0o7777`). */
  mode: number;
  /** SHA-256 of the content, lowercase hex; files only, absent when not hashed or unstable. */
  hash?: string;
  /** Symlink target as stored in the link (never followed). */
  target?: string;
  /** The path as it is on disk, when it differs from the NFC key. */
  raw?: string;
  flags?: EntryFlag[];
  /** For `error` entries: a stable code (EACCES, EIO, ENOENT, INVALID_NAME, ...). */
  errorCode?: string;
  /** For `error` entries: what went wrong, in words. */
  error?: string;
}

/** True when the entry carries the given flag. */
export function hasFlag(entry: ManifestEntry, flag: EntryFlag): boolean {
  return entry.flags?.includes(flag) === true;
}
