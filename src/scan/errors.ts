/**
 * Why a scan could not run at all. Problems with single items inside the
 * tree never throw: they become error entries in the manifest.
 */
import { SynkerError } from '../base/errors.js';

export type ScanErrorCode = 'E_SCAN_ROOT_MISSING' | 'E_SCAN_ROOT_NOT_DIR' | 'E_SCAN_ROOT_UNREADABLE' | 'E_SCAN_CACHE' | 'E_SCAN_OPTIONS';

export class ScanError extends SynkerError {
  declare readonly code: ScanErrorCode;
  /** The folder root being scanned. */
  readonly root: string;

  constructor(code: ScanErrorCode, root: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(code, message, options);
    this.root = root;
  }
}
