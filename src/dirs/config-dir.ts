/**
 * Creating the config dir (identity, config file) on first use. A dir that
 * cannot be created (a HOME or SYNKER_HOME the user may not write, a
 * read-only disk, a file in the way) is a setup problem for the user to fix,
 * not a bug: say which dir and what to do.
 */
import { SynkerError, errnoCode } from '../base/errors.js';
import { makeDirs } from '../base/make-dirs.js';

export class ConfigDirError extends SynkerError {}

export async function makeConfigDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir, 0o700);
  } catch (err) {
    const code = errnoCode(err);
    // The error names the path that failed, which may be a parent of `dir`.
    const detail = err instanceof Error ? err.message : String(err);
    throw new ConfigDirError('E_CONFIG_DIR', `cannot create the config dir ${dir}: ${detail}`, {
      cause: err,
      hint:
        code === 'ENOTDIR' || code === 'EEXIST'
          ? 'A file is in the way of that path: move it, or set SYNKER_HOME to a directory this user can write.'
          : code === 'ENOENT'
            ? // Its parent exists, yet refuses new folders: a virtual file system such as /proc or /sys.
              'That place takes no new folders (a virtual file system such as /proc or /sys?): set SYNKER_HOME to a directory on a disk this user can write.'
            : 'Create it with write access for the user running synker (or run synker as the user who owns it), or set SYNKER_HOME to a directory this user can write.',
    });
  }
}
