/**
 * The folder marker `.synker/folder.json` (Syncthing's `.stfolder` is the
 * model), written by `synker folder add`. It holds the folder ID, so a check
 * can tell three cases apart before it trusts what it sees under the root:
 * - ok: the marker names this folder;
 * - absent: no root or no marker — maybe a disk that is not mounted, which
 *   must never be mistaken for a folder whose files were all deleted;
 * - another folder's marker: the path points at the wrong folder (error).
 */
import { constants, lstatSync, mkdirSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { SynkerError, errnoCode } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import { MARKER_FILE, META_DIR } from '../manifest/layout.js';
import { SYNKER_VERSION } from '../base/version.js';
import { writeFileAtomic } from '../base/atomic-file.js';
import { makeDirs } from '../base/make-dirs.js';

export interface FolderMarker {
  folderId: string;
  /** When `folder add` wrote it (ISO time). */
  created: string;
  /** The synker version that wrote it. */
  synker: string;
}

export type FolderRootStatus =
  | { state: 'ok'; marker: FolderMarker }
  | { state: 'absent'; reason: 'no-root' | 'not-a-directory' | 'no-marker' }
  | { state: 'other-folder'; foundId: string };

export class FolderMarkerError extends SynkerError {}

/**
 * synker's own folder inside a folder root, `.synker/` and below (`versions`,
 * `partial`), as a real folder: made where missing, one level at a time,
 * and refused where it is a symlink or not a folder. A link there would send
 * versions and partial files outside the folder root, and let a prune delete
 * files there: anyone who can write inside a shared backup folder could
 * plant one. Returns the absolute path.
 */
export function realMetaDir(root: string, ...below: string[]): string {
  return metaDir(root, below, true);
}

/** realMetaDir for reading: the same refusal of a link, but nothing is made (a listing on a read-only disk). */
export function existingMetaDir(root: string, ...below: string[]): string {
  return metaDir(root, below, false);
}

function metaDir(root: string, below: string[], make: boolean): string {
  let dir = root;
  for (const part of [META_DIR, ...below]) {
    dir = path.join(dir, part);
    let st = lstatSync(dir, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!make) return path.join(root, META_DIR, ...below);
      try {
        mkdirSync(dir);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      st = lstatSync(dir);
    }
    if (st.isSymbolicLink() || !st.isDirectory()) throw metaLinkError(dir, st.isSymbolicLink());
  }
  return dir;
}

/** The refusal of synker's own folder `dir` (`.synker` or below) being a symlink or not a folder. */
export function metaLinkError(dir: string, isSymlink: boolean): FolderMarkerError {
  return new FolderMarkerError(
    'E_META_LINK',
    `${printablePath(dir)} is ${isSymlink ? 'a symlink' : 'not a folder'}: synker keeps its own files only in a real folder inside the folder root`,
    {
      hint: `Remove ${printablePath(dir)} (a link could send versions and partial files elsewhere); synker makes the folder itself.`,
    },
  );
}

export function markerPath(root: string): string {
  return path.join(root, MARKER_FILE);
}

/**
 * The marker's bytes, opened without blocking: a FIFO (or a device) planted
 * as the marker would hold a plain read, and the check or the agent's
 * thread with it, for ever. Anything but a regular file is refused.
 */
async function readMarkerText(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!(await handle.stat()).isFile())
      throw new FolderMarkerError('E_MARKER_UNREADABLE', `the folder marker ${printablePath(file)} is not a file`, {
        hint: `Remove ${printablePath(file)}: something other than synker's marker stands in its place.`,
      });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Read the marker; undefined when there is none. Throws FolderMarkerError when it is unreadable or not a marker. */
export async function readFolderMarker(root: string): Promise<FolderMarker | undefined> {
  const file = markerPath(root);
  let text: string;
  try {
    text = await readMarkerText(file);
  } catch (err) {
    if (err instanceof FolderMarkerError) throw err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FolderMarkerError('E_MARKER_UNREADABLE', printablePath(`cannot read the folder marker ${file}: ${(err as Error).message}`), {
      cause: err,
      hint: 'Check the permissions of the folder and its .synker directory.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const folderId = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).folderId : undefined;
  if (typeof folderId !== 'string' || folderId === '') {
    throw new FolderMarkerError('E_MARKER_CORRUPT', `the folder marker ${printablePath(file)} is damaged (no folder ID in it)`, {
      hint: 'Run `synker folder add` again for this folder to rewrite it, after checking the path is the right one.',
    });
  }
  const record = parsed as Record<string, unknown>;
  return { folderId, created: String(record.created ?? ''), synker: String(record.synker ?? '') };
}

/** What is at a folder root, without throwing for the expected cases. */
export async function checkFolderRoot(root: string, folderId: string): Promise<FolderRootStatus> {
  try {
    if (!(await stat(root)).isDirectory()) return { state: 'absent', reason: 'not-a-directory' };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent', reason: 'no-root' };
    throw new FolderMarkerError('E_FOLDER_UNREADABLE', printablePath(`cannot open the folder ${root}: ${(err as Error).message}`), {
      cause: err,
    });
  }
  const meta = lstatSync(path.join(root, META_DIR), { throwIfNoEntry: false });
  if (meta?.isSymbolicLink()) realMetaDir(root); // throws E_META_LINK: a link is no marker
  const marker = await readFolderMarker(root);
  if (!marker) return { state: 'absent', reason: 'no-marker' };
  if (marker.folderId !== folderId) return { state: 'other-folder', foundId: marker.folderId };
  return { state: 'ok', marker };
}

/** Like checkFolderRoot, but anything other than ok is a typed error saying what to do. */
export async function verifyFolderRoot(folderRoot: string, folderId: string): Promise<FolderMarker> {
  const status = await checkFolderRoot(folderRoot, folderId);
  // The path as messages show it: a config may hold any name, and a newline or an escape must not reach a terminal.
  const root = printablePath(folderRoot);
  switch (status.state) {
    case 'ok':
      return status.marker;
    case 'absent':
      throw new FolderMarkerError(
        'E_FOLDER_ABSENT',
        status.reason === 'no-marker'
          ? `folder "${folderId}" is absent: ${root} has no ${MARKER_FILE} marker (an unmounted disk?)`
          : `folder "${folderId}" is absent: ${root} ${status.reason === 'no-root' ? 'does not exist' : 'is not a directory'} (an unmounted disk?)`,
        {
          hint: `Mount the disk that holds ${root}. If the folder really moved, run \`synker folder remove ${folderId}\` and \`synker folder add\` with the new path.`,
        },
      );
    case 'other-folder':
      throw new FolderMarkerError('E_FOLDER_MISMATCH', `${root} is marked as folder "${status.foundId}", not "${folderId}"`, {
        hint: `The path points at another folder: fix the path of "${folderId}" in the config.`,
      });
  }
}

/** Write the marker (folder add). Refuses a root that is another folder's. */
export async function writeFolderMarker(root: string, folderId: string): Promise<void> {
  const existing = await readFolderMarker(root);
  if (existing && existing.folderId !== folderId) {
    throw new FolderMarkerError('E_FOLDER_MISMATCH', `${printablePath(root)} is already marked as folder "${existing.folderId}"`, {
      hint: `Use the same ID ("${existing.folderId}") or pick the right path. To reuse this directory for another folder, delete ${printablePath(markerPath(root))} first.`,
    });
  }
  if (existing) return;
  const marker: FolderMarker = { folderId, created: new Date().toISOString(), synker: SYNKER_VERSION };
  try {
    await makeDirs(path.join(root, META_DIR));
    await writeFileAtomic(markerPath(root), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o644, exactMode: true });
  } catch (err) {
    throw new FolderMarkerError(
      'E_MARKER_WRITE',
      `cannot write the folder marker ${markerPath(root)}: ${errnoCode(err) ?? (err as Error).message}`,
      {
        cause: err,
        hint: 'synker needs to write .synker/folder.json in the folder root: check that the disk is mounted read-write and the folder is writable by this user.',
      },
    );
  }
}
