/**
 * Which folders a check covers, and how long it tries to reach the source:
 * what the CLI needs before it knows whether it checks by itself or has the
 * agent do it (so it does not load the check's own modules for nothing).
 */
import type { FolderConfig, SynkerConfig } from '../config/types.js';
import { CheckError } from './errors.js';

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** The folders a check covers: the one named, or every backup folder in the config. */
export function foldersToCheck(config: SynkerConfig, folderId: string | undefined): FolderConfig[] {
  if (folderId !== undefined) {
    const folder = config.folders.find((f) => f.id === folderId);
    if (folder === undefined) {
      const known = config.folders.map((f) => f.id).join(', ');
      throw new CheckError('E_CHECK_NO_FOLDER', `there is no folder "${folderId}" in the config`, {
        hint: known === '' ? 'Add one first: synker folder add ID PATH --role backup --share SOURCE' : `Folders here: ${known}.`,
      });
    }
    return [folder];
  }
  const backups = config.folders.filter((f) => f.role === 'backup');
  if (backups.length === 0) {
    throw new CheckError('E_CHECK_NO_FOLDER', 'this machine has no backup folder to check', {
      hint: 'Add the backup copy: synker folder add ID PATH --role backup --share SOURCE',
    });
  }
  return backups;
}
