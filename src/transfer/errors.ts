/**
 * Errors of reading and serving files by manifest path: a path that must
 * never be read or written, and a source file that could not be served. Codes
 * are stable (documented in docs/sync.md, where a user meets them).
 */
import { SynkerError } from '../base/errors.js';

export class TransferError extends SynkerError {}

/** A peer-supplied or manifest path that must never be written or read. */
export class UnsafePathError extends TransferError {
  constructor(relPath: string, reason: string) {
    super('E_SYNC_UNSAFE_PATH', `refusing path ${JSON.stringify(relPath)}: ${reason}`, {
      hint: 'the peer sent a path outside the folder root; nothing was written. Check that the peer runs a genuine synker.',
    });
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
