/**
 * The live user config. `current()` always returns the latest valid config:
 * the store watches the file (inotify/FSEvents through fs.watch, plus a slow
 * stat poll for file systems where watching misses events), so `synker
 * trust` or `folder add` run from another shell take effect in a running
 * agent without a restart. A broken hand edit is logged and ignored: the
 * last good config stays in force until the file is fixed.
 *
 * `update()` is how commands change the config: under a cross-process lock
 * it re-reads the file, applies the change, validates and writes it
 * atomically, so two `synker trust` at once never lose an edit.
 */
import { EventEmitter } from 'node:events';
import { copyFile, stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { SynkerError, errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { acquireLock } from '../state/lock.js';
import { makeConfigDir } from '../dirs/config-dir.js';
import { ConfigError } from './config-error.js';
import { loadConfigFile, saveConfigFile, serializeConfig } from './config-file.js';
import { CONFIG_VERSION } from './defaults.js';
import { formatJsonPath } from './json-source.js';
import type { FolderConfig, SynkerConfig, TrustedDevice } from './types.js';
import { ConfigValidationError, validateConfig } from './validate.js';

const log = createLogger('config');

export interface ConfigStoreOptions {
  /** Follow changes made by other processes (the agent wants this; one-shot commands do not). */
  watch?: boolean;
  /** Safety-net stat poll interval while watching (ms, default 2000). */
  pollMs?: number;
}

export interface ConfigStoreEvents {
  /** A new valid config is in force. */
  change: [config: SynkerConfig, previous: SynkerConfig];
  /** The file changed but cannot be used; the last good config stays in force. */
  invalid: [error: ConfigError];
}

export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  private config: SynkerConfig;
  private text: string | undefined;
  private error: ConfigError | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private fileStamp = '';
  private reloading: Promise<boolean> = Promise.resolve(false);
  private closed = false;

  private constructor(
    readonly file: string,
    loaded: { config: SynkerConfig; text: string | undefined },
  ) {
    super();
    this.config = deepFreeze(loaded.config);
    this.text = loaded.text;
  }

  /** Load the config (a broken file is an error here: there is no last good config yet). */
  static async open(file: string, options: ConfigStoreOptions = {}): Promise<ConfigStore> {
    const absolute = path.resolve(file);
    const store = new ConfigStore(absolute, await loadConfigFile(absolute));
    store.fileStamp = await stampOf(absolute);
    if (options.watch) {
      // Watching needs the directory; the agent may start before any config was written.
      await makeConfigDir(path.dirname(absolute));
      store.startWatching(options.pollMs ?? 2000);
    }
    return store;
  }

  current(): SynkerConfig {
    return this.config;
  }

  /** The problem with the file on disk, while a broken edit is being ignored. */
  lastError(): ConfigError | undefined {
    return this.error;
  }

  /** The trusted entry for a device (canonical ID), or undefined when it is not trusted. */
  trusted(deviceId: string): TrustedDevice | undefined {
    return this.config.trusted.find((t) => t.deviceId === deviceId);
  }

  /** This agent's name (the peer server asks for it at each session). */
  agentName(): string {
    return this.config.name;
  }

  /** The folders (a fresh array of the read-only folder objects). */
  folders(): FolderConfig[] {
    return [...this.config.folders];
  }

  folder(id: string): FolderConfig | undefined {
    return this.config.folders.find((f) => f.id === id);
  }

  /**
   * The folder as a given peer may see it: undefined both when it does not
   * exist and when it is not shared with that device, so a peer cannot
   * learn which folders exist.
   */
  folderForPeer(folderId: string, deviceId: string): FolderConfig | undefined {
    const folder = this.folder(folderId);
    return folder?.shareWith.includes(deviceId) && this.trusted(deviceId) ? folder : undefined;
  }

  /** Folders shared with a (trusted) device. */
  foldersSharedWith(deviceId: string): FolderConfig[] {
    if (!this.trusted(deviceId)) return [];
    return this.config.folders.filter((f) => f.shareWith.includes(deviceId));
  }

  /**
   * Change the config: `mutate` edits a copy of the config as it is on disk
   * now; the result is validated and written atomically. Refuses to write
   * over a file that is currently broken (the user may be editing it).
   */
  async update<T>(mutate: (draft: SynkerConfig) => T | Promise<T>): Promise<T> {
    const lock = await acquireLock(`config\0${this.file}`, {
      purpose: 'config update',
      waitMs: 10_000,
      description: `the config file ${this.file}`,
    });
    try {
      const loaded = await loadConfigFile(this.file);
      const draft = structuredClone(loaded.config) as SynkerConfig;
      const result = await mutate(draft);
      let next: SynkerConfig;
      try {
        next = validateConfig({ ...draft, version: CONFIG_VERSION });
      } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        const first = err.issues[0]!;
        throw new ConfigError('E_CONFIG_INVALID', this.file, `the change was refused: ${err.message}`, { key: formatJsonPath(first.path) });
      }
      const text = serializeConfig(next);
      // Nothing to write when the change changed nothing (e.g. trusting a device twice).
      if (text !== loaded.text) {
        try {
          if (loaded.exists && loaded.fromVersion < CONFIG_VERSION) await keepOldVersion(this.file, loaded.fromVersion);
          await saveConfigFile(this.file, next);
        } catch (err) {
          if (err instanceof SynkerError) throw err;
          throw new ConfigError('E_CONFIG_WRITE', this.file, `cannot save the config: ${errnoCode(err) ?? (err as Error).message}`, {
            cause: err,
            hint: 'Check that the config dir is writable by this user and the disk is not full.',
          });
        }
      }
      this.accept(next, text);
      this.fileStamp = await stampOf(this.file);
      return result;
    } finally {
      await lock.release();
    }
  }

  /** Re-read the file now; true when a new config came into force. */
  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(
      () => this.reloadNow(),
      () => this.reloadNow(),
    );
    return this.reloading;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    await this.reloading.catch(() => undefined);
  }

  private async reloadNow(): Promise<boolean> {
    if (this.closed) return false;
    this.fileStamp = await stampOf(this.file);
    const loaded = await loadConfigFile(this.file).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );
    if ('err' in loaded) {
      if (!(loaded.err instanceof ConfigError)) throw loaded.err;
      if (this.error?.message !== loaded.err.message) {
        this.error = loaded.err;
        log.warn(`ignoring the changed config, keeping the last good one: ${loaded.err.message}`);
        this.emit('invalid', loaded.err);
      }
      return false;
    }
    const { value } = loaded;
    if (!value.exists) {
      if (this.text !== undefined) log.warn(`${this.file} was removed; keeping the last good config until it is back`);
      return false;
    }
    if (this.error) log.info(`${this.file} is valid again`);
    this.error = undefined;
    if (value.text === this.text) return false;
    const changed = serializeConfig(value.config) !== serializeConfig(this.config);
    if (!changed) {
      this.text = value.text;
      return false;
    }
    this.accept(value.config, value.text);
    log.info(`loaded the changed config from ${this.file}`);
    return true;
  }

  private accept(config: SynkerConfig, text: string | undefined): void {
    const previous = this.config;
    this.config = deepFreeze(config);
    this.text = text;
    this.error = undefined;
    if (serializeConfig(previous) !== serializeConfig(config)) this.emit('change', this.config, previous);
  }

  private startWatching(pollMs: number): void {
    const name = path.basename(this.file);
    const schedule = (): void => {
      if (this.debounce) clearTimeout(this.debounce);
      // Editors write in several steps; settle first.
      this.debounce = setTimeout(() => void this.reload().catch((err: unknown) => log.error('cannot reload the config', err)), 50);
      this.debounce.unref();
    };
    try {
      // Watch the directory, not the file: an atomic save replaces the file's inode.
      this.watcher = watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) schedule();
      });
      this.watcher.on('error', (err) => log.debug('config watcher failed; polling only', err));
    } catch (err) {
      log.debug(`cannot watch ${path.dirname(this.file)}; polling only`, err);
    }
    this.poller = setInterval(() => {
      void stampOf(this.file).then((stamp) => {
        if (stamp !== this.fileStamp) schedule();
      });
    }, pollMs);
    this.poller.unref();
  }
}

async function stampOf(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'missing';
    return `error:${errnoCode(err) ?? ''}`;
  }
}

/** Before the first save in a newer format, keep the old file as `config.json.v<N>` (once). */
async function keepOldVersion(file: string, version: number): Promise<void> {
  try {
    await copyFile(file, `${file}.v${version}`, 1 /* COPYFILE_EXCL: never overwrite an older backup */);
    log.info(`migrated ${file} from version ${version} to ${CONFIG_VERSION}; the old file is kept as ${file}.v${version}`);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
