/**
 * What every command needs, resolved the same way everywhere: the platform
 * dirs (SYNKER_HOME overrides), the config file (`--config FILE` or
 * `<config dir>/config.json`), the config store, and, on first use, the
 * identity (created on first run) and the agent state. Commands call
 * `loadCliContext(command.optsWithGlobals())` and `close()` when done.
 */
import path from 'node:path';
import { ConfigStore, type ConfigStoreOptions } from '../config/config-store.js';
import { CONFIG_FILE_NAME } from '../config/defaults.js';
import { synkerDirs, type SynkerDirs } from '../dirs/dirs.js';
import { loadOrCreateIdentity, type Identity } from '../identity/identity.js';
import { createLogger } from '../base/log.js';
import type { AgentState } from '../state/agent-state.js';

const log = createLogger('cli');

export interface CliContext {
  dirs: SynkerDirs;
  configPath: string;
  store: ConfigStore;
  /** This device's identity; created (and logged) on first use. */
  identity(): Promise<Identity>;
  /** The agent state in the data dir; opened on first use. */
  state(): Promise<AgentState>;
  /** Stop watching and close the state. */
  close(): Promise<void>;
}

export interface CliGlobalOptions {
  config?: string;
}

export async function loadCliContext(opts: CliGlobalOptions = {}, storeOptions: ConfigStoreOptions = {}): Promise<CliContext> {
  const dirs = synkerDirs();
  const configPath = path.resolve(opts.config ?? path.join(dirs.config, CONFIG_FILE_NAME));
  const store = await ConfigStore.open(configPath, storeOptions);
  let identity: Promise<Identity> | undefined;
  let state: Promise<AgentState> | undefined;
  return {
    dirs,
    configPath,
    store,
    identity() {
      identity ??= loadOrCreateIdentity(dirs.config, store.current().name).then(({ identity: id, created }) => {
        if (created) log.info(`created this device's identity in ${dirs.config} (keep it: peers trust its device ID)`);
        return id;
      });
      return identity;
    },
    state() {
      // Loaded on first use (LMDB and its codec: ~75 ms of start-up that most commands, and a check the agent does, never need).
      state ??= import('../state/agent-state.js').then(({ AgentState }) => AgentState.open(dirs.data));
      return state;
    },
    async close() {
      await store.close();
      // A state that failed to open has nothing to close.
      if (state)
        await state.then(
          (s) => s.close(),
          () => undefined,
        );
    },
  };
}

/** Run `fn` with a context that is always closed afterwards. */
export async function withCliContext<T>(
  opts: CliGlobalOptions,
  fn: (ctx: CliContext) => Promise<T>,
  storeOptions: ConfigStoreOptions = {},
): Promise<T> {
  const ctx = await loadCliContext(opts, storeOptions);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
