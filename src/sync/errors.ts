/**
 * Errors raised while planning or applying a sync. Codes are stable and
 * documented in docs/sync.md; every one says what to do next.
 */
import { SynkerError } from '../base/errors.js';

export class SyncError extends SynkerError {}

/** Bytes received do not match what the manifest promised: nothing lands. */
export class IntegrityError extends SyncError {
  constructor(relPath: string, detail: string) {
    super('E_SYNC_INTEGRITY', `${relPath}: ${detail}; the file was not written`, {
      hint: 'the file probably changed on the source during the transfer; run `synker sync` again',
    });
  }
}

/**
 * The part of a file kept from an interrupted transfer could not be trusted
 * on disk: it could not be extended, or after the resume the file read back
 * differs from the bytes received. It is deleted, and the file fetched again
 * from its first byte.
 */
export class PartialFileError extends SyncError {
  constructor(relPath: string, detail: string, cause?: unknown) {
    super('E_SYNC_PARTIAL', `${relPath}: ${detail}; it was deleted, and the file is fetched again from its first byte`, {
      ...(cause === undefined ? {} : { cause }),
      hint: "if this repeats, the backup's file system loses writes (some FUSE drivers do, for files that are reopened): check the disk, and the folder with `synker check --verify`",
    });
  }
}

/** The backup folder cannot be written to at all: nothing was changed. */
export class BackupNotWritableError extends SyncError {
  constructor(root: string, errno: string, cause: unknown) {
    const why = errno === 'EROFS' ? 'is on a read-only file system' : 'cannot be written to by this user';
    super('E_SYNC_NOT_WRITABLE', `the backup folder ${root} ${why} (${errno}); nothing was changed`, {
      cause,
      hint:
        errno === 'EROFS'
          ? 'remount the disk read-write (a disk with errors is often remounted read-only: check it first), then sync again; `synker sync --dry-run` shows the plan meanwhile'
          : 'give the user running synker write access to the folder, then sync again',
    });
  }
}

/**
 * The backup's disk failed a write in a way no other file would escape (full,
 * read-only, I/O error): the run stops. Partial files stay for resuming.
 */
export class BackupDiskError extends SyncError {
  static of(relPath: string, err: unknown): BackupDiskError | undefined {
    const errno = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
    if (errno === 'ENOSPC' || errno === 'EDQUOT') {
      return new BackupDiskError(
        relPath,
        'E_SYNC_DISK_FULL',
        `the backup disk is full (${errno}) while writing ${relPath}`,
        err,
        'free some space on the backup disk (or move the folder to a bigger one), then sync again: what was copied stays, and interrupted files resume',
      );
    }
    if (errno === 'EROFS')
      return new BackupDiskError(
        relPath,
        'E_SYNC_NOT_WRITABLE',
        `the backup disk became read-only (EROFS) while writing ${relPath}`,
        err,
        'a disk is often remounted read-only after errors: check it (fsck), remount it read-write, then sync again',
      );
    if (errno === 'EIO')
      return new BackupDiskError(
        relPath,
        'E_SYNC_DISK_IO',
        `the backup disk reported an I/O error (EIO) while writing ${relPath}`,
        err,
        'the disk may be failing: check its health (smartctl, the system log) before trusting it with more files',
      );
    return undefined;
  }

  private constructor(
    readonly relPath: string,
    code: string,
    message: string,
    cause: unknown,
    hint: string,
  ) {
    super(code, message, { cause, hint });
  }
}

/** A safety guard stopped the run before anything was changed. */
export class SyncGuardError extends SyncError {
  /** The error for a plan's guard stops: the first one's code and hint, every message. */
  static of(stops: ReadonlyArray<{ guard: string; message: string; hint: string }>): SyncGuardError {
    const first = stops[0]!;
    return new SyncGuardError(`E_SYNC_GUARD_${first.guard.toUpperCase().replace('-', '_')}`, stops.map((s) => s.message).join('; '), {
      hint: first.hint,
    });
  }
}
