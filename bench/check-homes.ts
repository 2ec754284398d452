/**
 * Two synker homes for a benchmark of `synker check` on loopback, written
 * directly (no CLI): a source sharing a folder with a backup, each trusting
 * the other, and the real `synker agent` process that serves a home.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveConfigFile } from '../src/config/config-file.js';
import { CONFIG_FILE_NAME } from '../src/config/defaults.js';
import { writeFolderMarker } from '../src/config/folder-marker.js';
import { CERT_FILE, KEY_FILE, createIdentity, type Identity } from '../src/identity/identity.js';

export interface CheckHomes {
  /** The backup's config, its one peer the source's agent at 127.0.0.1:`sourcePort` (written again after each start). */
  writeBackupConfig(sourcePort: number): Promise<void>;
}

/**
 * Folder `folderId`: `sourceRoot` in `sourceHome` ("bench-source", shared with the backup) and `backupRoot`
 * in `backupHome` ("bench-backup"), with new identities; the backup's config comes with writeBackupConfig.
 */
export async function writeCheckHomes(options: {
  folderId: string;
  sourceRoot: string;
  backupRoot: string;
  sourceHome: string;
  backupHome: string;
}): Promise<CheckHomes> {
  const { folderId } = options;
  await writeFolderMarker(options.sourceRoot, folderId);
  await writeFolderMarker(options.backupRoot, folderId);
  const [sourceIdentity, backupIdentity] = await Promise.all([createIdentity('bench-source'), createIdentity('bench-backup')]);
  const home = (dir: string, identity: Pick<Identity, 'certPem' | 'keyPem'>) => {
    mkdirSync(path.join(dir, 'config'), { recursive: true });
    writeFileSync(path.join(dir, 'config', CERT_FILE), identity.certPem);
    writeFileSync(path.join(dir, 'config', KEY_FILE), identity.keyPem, { mode: 0o600 });
    return path.join(dir, 'config', CONFIG_FILE_NAME);
  };
  await saveConfigFile(home(options.sourceHome, sourceIdentity), {
    version: 1,
    name: 'bench-source',
    port: 7780,
    folders: [{ id: folderId, path: options.sourceRoot, role: 'source', shareWith: [backupIdentity.deviceId] }],
    trusted: [{ deviceId: backupIdentity.deviceId, name: 'bench-backup' }],
    peers: [],
  });
  const backupConfig = home(options.backupHome, backupIdentity);
  return {
    writeBackupConfig: (sourcePort) =>
      saveConfigFile(backupConfig, {
        version: 1,
        name: 'bench-backup',
        port: 7781,
        folders: [{ id: folderId, path: options.backupRoot, role: 'backup', shareWith: [sourceIdentity.deviceId] }],
        trusted: [{ deviceId: sourceIdentity.deviceId, name: 'bench-source' }],
        peers: [`127.0.0.1:${sourcePort}`],
      }),
  };
}

/** A real `synker agent` process (discovery and schedule off) of the synker at `synker` (its bin/synker.js), on `home`. */
export class AgentProcess {
  child: ChildProcess | undefined;
  port = 0;

  constructor(
    private readonly synker: string,
    private readonly home: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.synker, 'agent', '--port', '0', '--no-discovery', '--no-schedule'], {
      env: { ...process.env, SYNKER_HOME: this.home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        const match = /on port (\d+)/.exec(err);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`synker agent exited (${String(code)}) before listening: ${err}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  /** Restarted with an empty hash cache. */
  async restartEmpty(): Promise<void> {
    await this.stop();
    rmSync(path.join(this.home, 'cache'), { recursive: true, force: true });
    await this.start();
  }
}
