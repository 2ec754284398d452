/**
 * synker's own folders of THIS machine that lie inside a shared folder: a
 * whole home or profile shared as a folder holds them (`~/.config/synker`,
 * `%APPDATA%\synker`, the hash cache, the agent's live state). They are left
 * out of every scan of that folder, on either side, like the folder's own
 * `.synker/`: the private key never leaves the machine, and files synker
 * itself keeps writing never make a folder incomplete. Only this machine's
 * own folders: another user's synker folders inside a shared folder are that
 * user's files and are backed up like any other (docs/configuration.md).
 *
 * One rule, used by the scan (both sides), by the check (nothing of the
 * source is written into them) and by `folder add` and `doctor` (the
 * warning). Paths are compared the way the platform's disks do: without case
 * on Windows and macOS.
 */
import path from 'node:path';
import { printablePath } from '../base/printable.js';
import { realPathSync } from '../base/real-path.js';
import { runtimeDir, synkerDirs } from './dirs.js';

/**
 * This machine's synker folders: SYNKER_HOME as a whole when set (config,
 * data and cache all live in it), else the config, data and cache dirs; the
 * runtime dir where agents register; and any other cache dir in use
 * (`--cache-dir`).
 */
export function ownDirs(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  extra: readonly string[] = [],
): string[] {
  const pathOf = platform === 'win32' ? path.win32 : path.posix;
  const dirs = synkerDirs(env, platform);
  const home = env.SYNKER_HOME ? [env.SYNKER_HOME] : [dirs.config, dirs.data, dirs.cache];
  return [...new Set([...home, runtimeDir(env, platform), ...extra].map((d) => pathOf.resolve(d)))];
}

/** True on platforms whose disks usually ignore case (NTFS as Windows mounts it, APFS and HFS+ by default). */
export function foldsCase(platform: NodeJS.Platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/** A path or key as the platform compares it: NFC, and lower case where the disk ignores case. */
function comparable(p: string, platform: NodeJS.Platform): string {
  const nfc = p.normalize('NFC');
  return foldsCase(platform) ? nfc.toLowerCase() : nfc;
}

export interface OwnDirsInsideOptions {
  platform?: NodeJS.Platform;
  /** Also compare the real paths (symlinks resolved) of the root and of each dir that exists. Default true. */
  realPaths?: boolean;
}

/**
 * Which of `dirs` lie strictly inside `root`, as manifest keys relative to
 * it (`/`-separated, NFC, spelt as the dir was given); the outermost only
 * when one holds another (the Windows cache inside the data dir). A dir that
 * is the root, or holds it, is not "inside".
 */
export function ownDirsInside(root: string, dirs: readonly string[], options: OwnDirsInsideOptions = {}): string[] {
  const platform = options.platform ?? process.platform;
  const pathOf = platform === 'win32' ? path.win32 : path.posix;
  const real = options.realPaths ?? true;
  const roots = alsoReal(pathOf.resolve(root), real, pathOf);
  const keys: string[] = [];
  for (const dir of dirs) {
    for (const d of alsoReal(pathOf.resolve(dir), real, pathOf)) {
      const key = keyInside(roots, d, platform);
      if (key !== undefined && !keys.includes(key)) keys.push(key);
    }
  }
  // The outermost of nested dirs: a scan never descends into it anyway.
  return keys.filter((k) => !keys.some((o) => o !== k && isUnder(comparable(k, platform), comparable(o, platform))));
}

function keyInside(roots: readonly string[], dir: string, platform: NodeJS.Platform): string | undefined {
  const pathOf = platform === 'win32' ? path.win32 : path.posix;
  for (const root of roots) {
    const r = comparable(root, platform);
    const d = comparable(dir, platform);
    const prefix = r.endsWith(pathOf.sep) ? r : r + pathOf.sep;
    if (!d.startsWith(prefix) || d.length === prefix.length) continue;
    // Spelt as the dir was given, unless folding case changed a length (a rare letter): then folded.
    const spelt = dir.normalize('NFC');
    const rel = (spelt.length === d.length ? spelt : d).slice(prefix.length);
    if (rel.length === 0) continue;
    return rel
      .split(pathOf.sep)
      .filter((p) => p !== '')
      .join('/');
  }
  return undefined;
}

/** `p`, and its real path when that differs; for a dir not made yet, its nearest existing parent's real path and the rest. */
function alsoReal(p: string, real: boolean, pathOf: typeof path.posix): string[] {
  if (!real) return [p];
  let rest = '';
  for (let at = p; ; ) {
    try {
      const r = pathOf.join(realPathSync(at), rest);
      return r === p ? [p] : [p, r];
    } catch {
      const up = pathOf.dirname(at);
      if (up === at) return [p];
      rest = pathOf.join(pathOf.basename(at), rest);
      at = up;
    }
  }
}

function isUnder(key: string, folder: string): boolean {
  return key.startsWith(`${folder}/`);
}

/**
 * The test a walk makes for each item: is this key (NFC, `/`-separated) one
 * of synker's own folders? Compared without case where the platform's disks
 * ignore it.
 */
export class OwnDirKeys {
  private readonly keys: ReadonlySet<string>;
  /** The folders that directly hold an own folder ('' for the root). */
  private readonly parents: ReadonlySet<string>;
  readonly platform: NodeJS.Platform;
  readonly list: readonly string[];

  constructor(keys: readonly string[], platform: NodeJS.Platform = process.platform) {
    this.platform = platform;
    this.list = keys;
    this.keys = new Set(keys.map((k) => comparable(k, platform)));
    this.parents = new Set([...this.keys].map((k) => k.slice(0, Math.max(0, k.lastIndexOf('/')))));
  }

  /** Whether a folder's children can be an own folder: asked once per folder, so the walk tests no child of any other. */
  mayHoldOne(parentKey: string): boolean {
    return this.parents.has(comparable(parentKey, this.platform));
  }

  get size(): number {
    return this.keys.size;
  }

  /** True for an own folder itself (the walk never descends into it, so what lies below is never asked). */
  has(key: string): boolean {
    return this.keys.has(comparable(key, this.platform));
  }

  /** True for an own folder or anything inside it (for a source's path that would land there). */
  holds(key: string): boolean {
    const k = comparable(key, this.platform);
    if (this.keys.has(k)) return true;
    for (let slash = k.lastIndexOf('/'); slash > 0; slash = k.lastIndexOf('/', slash - 1))
      if (this.keys.has(k.slice(0, slash))) return true;
    return false;
  }

  /** True for what holds() answers, and for a folder that holds an own folder (moving or replacing it would take them along). */
  touches(key: string): boolean {
    if (this.holds(key)) return true;
    const prefix = `${comparable(key, this.platform)}/`;
    for (const k of this.keys) if (k.startsWith(prefix)) return true;
    return false;
  }
}

/** This machine's own folders inside `root`, ready for a walk. */
export function ownDirKeysOf(root: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): OwnDirKeys {
  return new OwnDirKeys(ownDirsInside(root, ownDirs(env, process.platform, extra)), process.platform);
}

/**
 * What `folder add`, `init` and `doctor` say once about a folder that holds
 * this machine's synker folders (keys from ownDirsInside), or undefined
 * when it holds none.
 */
export function ownDirsNotice(root: string, keys: readonly string[]): string | undefined {
  if (keys.length === 0) return undefined;
  const list = keys.map((k) => printablePath(k)).join(', ');
  return `${printablePath(root)} holds synker's own files of this machine (${list}): they are left out of every check and sync of it, so this machine's private key and live state never leave it`;
}

/** ownDirsNotice for a folder on this machine, with this machine's dirs. */
export function ownDirsNoticeFor(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return ownDirsNotice(root, ownDirKeysOf(root, [], env).list);
}
