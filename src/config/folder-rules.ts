/**
 * The rules for folders, checked by the config, `synker folder add` and
 * `synker init` alike:
 *
 * - A folder ID is short and plain (FOLDER_ID_PATTERN): it travels in the
 *   protocol and names state entries.
 * - A path may start with `~/` (the home folder; on Windows also `~\`, the
 *   profile folder, since neither cmd nor PowerShell expands `~` for a
 *   program). `folder add`, `init` and the config file all use expandHome.
 * - Folders must not nest. A backup inside a source (or a source inside a
 *   backup) means a sync of the backup writes into the source, which synker
 *   never does (docs/security.md); and a folder inside another is scanned and
 *   checked twice, its marker showing up as a file of the outer one.
 */
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { realPath } from '../base/real-path.js';

export const FOLDER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** FOLDER_ID_PATTERN in words, for messages: "must be …", "Use …". */
export const FOLDER_ID_RULE = '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** What is wrong with a folder ID, as a sentence; undefined when nothing. */
export function folderIdProblem(id: string): string | undefined {
  return FOLDER_ID_PATTERN.test(id) ? undefined : `A folder ID is ${FOLDER_ID_RULE}.`;
}

/**
 * `~` and `~/…` as the home folder (on Windows also `~\…`; elsewhere a
 * backslash is part of a name, as in typedPath); any other path as written.
 */
export function expandHome(p: string, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (p === '~') return home;
  const paths = platform === 'win32' ? path.win32 : path.posix;
  if (p.startsWith('~/') || (platform === 'win32' && p.startsWith('~\\'))) return paths.join(home, p.slice(2));
  return p;
}

/** What a folder path in the config file gets wrong: the sentence after `folders[N].path:`, and what to do. */
export interface FolderPathProblem {
  message: string;
  hint?: string;
}

const CONTROL_NAMES: Record<string, string> = {
  '\t': 'a tab',
  '\n': 'a newline',
  '\r': 'a carriage return',
  '\b': 'a backspace',
  '\f': 'a form feed',
};
const CONTROL_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\f': '\\f' };
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * What is wrong with a folder path as the config file holds it (JSON-decoded),
 * or undefined. A control character there is a Windows path written with
 * single backslashes: in JSON `"C:\temp\new"` is "C:", a tab, "emp", a
 * newline, "ew". Windows names cannot hold control characters, so there it
 * is always named; elsewhere a name may hold one (synker writes such a path
 * back escaped), so it is named only when the path is refused anyway.
 */
export function configFolderPathProblem(raw: string, platform: NodeJS.Platform = process.platform): FolderPathProblem | undefined {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const absolute = paths.isAbsolute(expandHome(raw, platform));
  const controls = [...new Set(raw.match(CONTROL) ?? [])];
  if (controls.length > 0 && (platform === 'win32' || !absolute)) {
    const named = controls.map(
      (c) => CONTROL_NAMES[c] ?? `control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
    );
    // The path as it was most likely meant: each escape read back as a backslash and its letter.
    const meant = raw.replace(CONTROL, (c) => CONTROL_ESCAPES[c] ?? c);
    return {
      message: `holds ${named.join(' and ')} (found ${JSON.stringify(raw)}): in JSON a backslash starts an escape, so \\t is a tab and \\n a newline`,
      hint: `Double each backslash in the config file (${JSON.stringify(meant)}) or write / instead (${JSON.stringify(meant.replaceAll('\\', '/'))}).`,
    };
  }
  if (!absolute) return { message: `must be an absolute path (or start with ~/), found ${JSON.stringify(raw)}` };
  return undefined;
}

/** The phrase for a folder that overlaps another ('inside' or 'contains'): "inside", "the parent of". */
export function overlapWords(overlap: 'inside' | 'contains'): string {
  return overlap === 'inside' ? 'inside' : 'the parent of';
}

/** Why overlapping folders are refused, the end of every such message. */
export const NESTING_RULE = 'folders must not be inside one another';

/** True when `inner` is strictly inside `outer` (both absolute and normalised). */
export function isInsidePath(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** How two folder roots overlap: the same folder, one inside the other, or not at all. */
export function folderOverlap(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  if (path.relative(a, b) === '') return 'same';
  if (isInsidePath(a, b)) return 'inside';
  if (isInsidePath(b, a)) return 'contains';
  return undefined;
}

/** The real path (symlinks resolved) where the folder exists; the path as written where it does not (an unmounted disk). */
export async function realFolderPath(p: string): Promise<string> {
  try {
    return await realPath(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR' || errnoCode(err) === 'EACCES') return path.resolve(p);
    throw err;
  }
}
