/**
 * Errors of reading and serving files by manifest path: a path that must
 * never be read or written, and a source file that could not be served. Codes
 * are stable (documented in docs/sync.md, where a user meets them).
 */
import { SynkerError } from '../base/errors.js';

export class TransferError extends SynkerError {}

/** A peer-supplied or manifest path that must never be written or read. */
export class UnsafePathError extends TransferError {
  constructor(
    relPath: string,
    reason: string,
    hint = 'the peer sent a path outside the folder root; nothing was written. Check that the peer runs a genuine synker.',
  ) {
    super('E_SYNC_UNSAFE_PATH', `refusing path ${JSON.stringify(relPath)}: ${reason}`, { hint });
  }
}

/** A path whose parent folder is a symlink or not a folder: never written through. */
export class UnsafeParentError extends UnsafePathError {
  constructor(
    relPath: string,
    /** The parent, relative to the folder root. */
    readonly parent: string,
    readonly parentIs: 'a symlink' | 'not a folder',
  ) {
    super(
      relPath,
      `its parent ${parent} is ${parentIs}`,
      `${parent} on this side is ${parentIs}: synker never writes through it. Remove or rename it (a symlink planted in a backup folder others can write to is an attack), then sync again`,
    );
  }
}

/**
 * The source could not serve one file (gone, changed since its manifest, not
 * a regular file any more). Only that file fails; the run goes on.
 */
export class SourceFileError extends TransferError {
  constructor(
    readonly relPath: string,
    readonly reason: 'changed' | 'not-found' | 'refused' | 'unreadable',
    detail: string,
  ) {
    super(`E_SYNC_SOURCE_${reason.toUpperCase().replace('-', '_')}`, `${relPath}: ${detail}`, {
      hint:
        reason === 'changed'
          ? 'the file is being written on the source; sync again when it is still'
          : 'run `synker check` again to refresh the manifests',
    });
  }
}

/**
 * A folder a run had already opened or checked is now a symlink, a file, or
 * gone: the tree changed under the run. That one entry is not written (never
 * written through the link); the next check sees the tree as it is now.
 */
export class FolderChangedError extends TransferError {
  constructor(
    readonly relPath: string,
    /** The folder that changed, relative to the folder root. */
    readonly folder: string,
    /** What is at the folder's name now ('not a folder': a file, FIFO, socket or device). */
    readonly now: 'a symlink' | 'not a folder' | 'gone',
  ) {
    super(
      'E_SYNC_FOLDER_CHANGED',
      `${relPath}: its folder ${folder} ${now === 'gone' ? 'disappeared' : now === 'a symlink' ? 'became a symlink' : 'became a file'} while synker was writing there; ${relPath} was not written`,
      {
        hint: 'something else changes this folder during the sync: find out what (a symlink planted in a backup folder others can write to is an attack), then sync again',
      },
    );
  }
}
