/**
 * Errors raised while planning or applying a sync. Codes are stable and
 * documented in docs/sync.md; every one says what to do next.
 */
import { SynkerError } from '../errors.js';

export class SyncError extends SynkerError {}

/** A peer-supplied or manifest path that must never be written or read. */
export class UnsafePathError extends SyncError {
  constructor(relPath: string, reason: string) {
    super('E_SYNC_UNSAFE_PATH', `refusing path ${JSON.stringify(relPath)}: ${reason}`, {
      hint: 'the peer sent a path outside the folder root; nothing was written. Check that the peer runs a genuine synker.',
    });
  }
}

/** Bytes received do not match what the manifest promised: nothing lands. */
export class IntegrityError extends SyncError {
  constructor(relPath: string, detail: string) {
    super('E_SYNC_INTEGRITY', `${relPath}: ${detail}; the file was not written`, {
      hint: 'the file probably changed on the source during the transfer; run `synker sync` again',
    });
  }
}

/** A safety guard stopped the run before anything was changed. */
export class SyncGuardError extends SyncError {
  /** The error for a plan's guard stops: the first one's code and hint, every message. */
  static of(stops: ReadonlyArray<{ guard: string; message: string; hint: string }>): SyncGuardError {
    const first = stops[0]!;
    return new SyncGuardError(`E_SYNC_GUARD_${first.guard.toUpperCase().replace('-', '_')}`, stops.map((s) => s.message).join('; '), { hint: first.hint });
  }
}

/**
 * The source could not serve one file (gone, changed since its manifest, not
 * a regular file any more). Only that file fails; the run goes on.
 */
export class SourceFileError extends SyncError {
  constructor(
    readonly relPath: string,
    readonly reason: 'changed' | 'not-found' | 'refused' | 'unreadable',
    detail: string,
  ) {
    super(`E_SYNC_SOURCE_${reason.toUpperCase().replace('-', '_')}`, `${relPath}: ${detail}`, {
      hint: reason === 'changed' ? 'the file is being written on the source; sync again when it is still' : 'run `synker check` again to refresh the manifests',
    });
  }
}
