/**
 * A source and a backup of one folder on this machine, as two agents over
 * loopback: the source is a real agent server (src/peer) serving a real
 * folder through the scanner, the backup checks with its own identity,
 * agent state and hash cache. Tests mutate the two real folders and check.
 */
import { mkdir, open, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { saveConfigFile } from '../../src/config/config-file.js';
import { CONFIG_FILE_NAME } from '../../src/config/defaults.js';
import { writeFolderMarker } from '../../src/config/folder-marker.js';
import { CERT_FILE, KEY_FILE, createIdentity, type Identity } from '../../src/identity/identity.js';
import type { FolderConfig, SynkerConfig } from '../../src/config/types.js';
import { staticLocator } from './peer-address.js';
import { checkFolder, type CheckEnvironment, type CheckOptions } from '../../src/check/run.js';
import { scanningSource } from '../../src/agent/agent.js';
import { startAgentServer, type AgentServer } from '../../src/peer/index.js';
import type { CheckReport } from '../../src/report/model.js';
import { AgentState } from '../../src/state/agent-state.js';
import { tempDir } from './tmp.js';

export const FOLDER_ID = 'photos';

/**
 * The mtime every test file gets, in seconds: a quarter second is exact in
 * binary, so utimes() sets it without float rounding, and it is not a whole
 * second (a whole-second tree would look FAT-like to the automatic tolerance).
 */
export const FIXED_MTIME_S = 1_760_000_000.25;

export interface CheckPair {
  sourceRoot: string;
  backupRoot: string;
  /** The source agent's hash cache directory. */
  sourceCacheDir: string;
  /** The backup's hash cache directory (what `check()` uses). */
  backupCacheDir: string;
  sourceIdentity: Identity;
  backupIdentity: Identity;
  server: AgentServer;
  backupHome: string;
  /** The backup's config (as `synker check` would load it). */
  backupConfig: SynkerConfig;
  /** The backup's agent state (its verified hashes), as `check()` uses it. */
  state: AgentState;
  check(options?: CheckOptions): Promise<CheckReport>;
  /** Writes the backup's config and identity under backupHome, for `SYNKER_HOME=backupHome synker check`. */
  writeBackupHome(): Promise<void>;
}

/** Writes files (path -> content) under a root, creating folders; every file gets FIXED_MTIME_S. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    await utimes(file, FIXED_MTIME_S, FIXED_MTIME_S);
  }
}

export async function startCheckPair(t: TestContext, files: Record<string, string>): Promise<CheckPair> {
  const dir = await tempDir(t, 'synker-check-');
  const sourceRoot = path.join(dir, 'source');
  const backupRoot = path.join(dir, 'backup');
  const backupHome = path.join(dir, 'backup-home');
  const sourceCacheDir = path.join(dir, 'source-cache');
  for (const root of [sourceRoot, backupRoot]) {
    await mkdir(root, { recursive: true });
    await writeFolderMarker(root, FOLDER_ID);
    await writeTree(root, files);
  }
  const [sourceIdentity, backupIdentity] = await Promise.all([createIdentity('laptop'), createIdentity('nas')]);
  const sourceFolder: FolderConfig = { id: FOLDER_ID, path: sourceRoot, role: 'source', shareWith: [backupIdentity.deviceId] };
  const server = await startAgentServer({
    identity: sourceIdentity,
    host: '127.0.0.1',
    port: 0,
    directory: {
      agentName: () => 'laptop',
      trusted: (id) => (id === backupIdentity.deviceId ? { deviceId: id, name: 'nas' } : undefined),
      folders: () => [sourceFolder],
    },
    // The agent's own source: it honours the request's verify and hash options.
    manifestSource: scanningSource({ cacheDir: sourceCacheDir, jobs: 2 }),
  });
  t.after(() => server.close());
  const backupConfig: SynkerConfig = {
    version: 1,
    name: 'nas',
    port: 7781,
    folders: [{ id: FOLDER_ID, path: backupRoot, role: 'backup', shareWith: [sourceIdentity.deviceId] }],
    trusted: [{ deviceId: sourceIdentity.deviceId, name: 'laptop' }],
    peers: [`127.0.0.1:${server.port}`],
  };
  const state = await AgentState.open(path.join(backupHome, 'data'));
  t.after(() => state.close());
  const env: CheckEnvironment = { config: backupConfig, identity: backupIdentity, state, locator: staticLocator(backupConfig.peers) };
  return {
    sourceRoot,
    backupRoot,
    sourceCacheDir,
    backupCacheDir: path.join(backupHome, 'cache'),
    sourceIdentity,
    backupIdentity,
    server,
    backupHome,
    backupConfig,
    state,
    async writeBackupHome() {
      const configDir = path.join(backupHome, 'config');
      await mkdir(configDir, { recursive: true });
      await saveConfigFile(path.join(configDir, CONFIG_FILE_NAME), backupConfig);
      await writeFile(path.join(configDir, CERT_FILE), backupIdentity.certPem);
      await writeFile(path.join(configDir, KEY_FILE), backupIdentity.keyPem, { mode: 0o600 });
    },
    check: (options = {}) => checkFolder(env, backupConfig.folders[0]!, { cacheDir: path.join(backupHome, 'cache'), jobs: 2, ...options }),
  };
}

/** Rewrites a file's bytes in place, keeping its size and mtime (what bit rot or tampering looks like). */
export async function corruptKeepingSizeAndMtime(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, 0);
  byte[0] = byte[0]! ^ 0x20;
  await handle.write(byte, 0, 1, 0);
  await handle.close();
  await utimes(file, FIXED_MTIME_S, FIXED_MTIME_S);
}
