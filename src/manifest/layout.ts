/**
 * synker's own files inside a folder root. `.synker/` is never scanned,
 * listed or transferred. Its `folder.json` is the folder marker written by
 * `synker folder add`: a root without it is treated as absent (an unmounted
 * disk), never as empty. Sync keeps replaced and deleted files in
 * `.synker/versions/`.
 */
export const META_DIR = '.synker';
export const MARKER_FILE = `${META_DIR}/folder.json`;
export const VERSIONS_DIR = `${META_DIR}/versions`;
/** Ignore rules (gitignore syntax) at the folder root. */
export const IGNORE_FILE = '.synkerignore';
