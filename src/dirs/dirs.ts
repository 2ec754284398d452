/**
 * Where synker keeps its files, per platform conventions:
 * - config (identity, user config): ~/.config/synker, ~/Library/Application Support/synker, %APPDATA%\synker
 * - data (agent state, outbox, locks): ~/.local/share/synker, same on macOS, %LOCALAPPDATA%\synker
 * - cache (hash caches): ~/.cache/synker, ~/Library/Caches/synker, %LOCALAPPDATA%\synker\cache
 * SYNKER_HOME=DIR puts all three under DIR (config/, data/, cache/): portable installs and tests.
 */
import os from 'node:os';
import path from 'node:path';

export interface SynkerDirs {
  config: string;
  data: string;
  cache: string;
}

export function synkerDirs(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): SynkerDirs {
  const home = env.SYNKER_HOME;
  if (home) {
    const root = path.resolve(home);
    return { config: path.join(root, 'config'), data: path.join(root, 'data'), cache: path.join(root, 'cache') };
  }
  const userHome = env.HOME ?? env.USERPROFILE ?? os.homedir();
  if (platform === 'win32') {
    const roaming = env.APPDATA ?? path.join(userHome, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA ?? path.join(userHome, 'AppData', 'Local');
    return { config: path.join(roaming, 'synker'), data: path.join(local, 'synker'), cache: path.join(local, 'synker', 'cache') };
  }
  if (platform === 'darwin') {
    const support = path.join(userHome, 'Library', 'Application Support', 'synker');
    return { config: support, data: support, cache: path.join(userHome, 'Library', 'Caches', 'synker') };
  }
  return {
    config: path.join(env.XDG_CONFIG_HOME || path.join(userHome, '.config'), 'synker'),
    data: path.join(env.XDG_DATA_HOME || path.join(userHome, '.local', 'share'), 'synker'),
    cache: path.join(env.XDG_CACHE_HOME || path.join(userHome, '.cache'), 'synker'),
  };
}

/**
 * The per-user runtime folder, shared by every home of this user on this
 * machine (never under SYNKER_HOME): where running agents register so the
 * agents and commands of another home on the same machine find them
 * (docs/discovery.md, "Agents on this machine"). $XDG_RUNTIME_DIR/synker
 * when set (Linux sessions: private to the user, emptied at logout), else a
 * folder of this user in the temp dir (per user on macOS and Windows).
 */
export function runtimeDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  tmpdir: string = os.tmpdir(),
  uid: number = typeof process.getuid === 'function' ? process.getuid() : 0,
): string {
  const pathOf = platform === 'win32' ? path.win32 : path.posix;
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && pathOf.isAbsolute(xdg)) return pathOf.join(xdg, 'synker');
  return pathOf.join(tmpdir, platform === 'win32' ? 'synker' : `synker-${uid}`);
}
