/**
 * The item-error policy of applying a plan: which errors concern one item
 * (recorded, and the run goes on) and which end the run, and how a failed
 * item is recorded and logged.
 */
import { errnoCode, SynkerError } from '../base/errors.js';
import { FolderChangedError, SourceFileError, UnsafePathError } from '../transfer/errors.js';
import type { FailedItem } from './apply-types.js';
import { BackupDiskError, IntegrityError, SyncError } from './errors.js';
import { NameCollisionError } from './land.js';

/** Errors that concern one item: the run records them and goes on. */
export function isItemError(err: unknown): boolean {
  if (
    err instanceof IntegrityError ||
    err instanceof SourceFileError ||
    err instanceof UnsafePathError ||
    err instanceof FolderChangedError ||
    err instanceof NameCollisionError
  )
    return true;
  if (err instanceof BackupDiskError) return false;
  if (err instanceof SyncError) return true;
  if (err instanceof SynkerError) return false; // protocol and transport errors end the run
  const code = errnoCode(err);
  return code !== undefined && code !== 'ENOSPC' && code !== 'EROFS' && code !== 'EIO';
}

/**
 * A log line about one item that names its path once: most item errors
 * already start with it ("a.jpg: changed on the source…", "a.jpg is a folder
 * on this side…"); a system error's or an unsafe path's message does not.
 */
export function namingPath(p: string, message: string): string {
  return message.startsWith(`${p}: `) || message.startsWith(`${p} `) ? message : `${p}: ${message}`;
}

export function toFailed(p: string, err: unknown): FailedItem {
  if (err instanceof SynkerError)
    return { path: p, code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  return { path: p, code: errnoCode(err) ?? 'E_UNKNOWN', message: err instanceof Error ? err.message : String(err) };
}
