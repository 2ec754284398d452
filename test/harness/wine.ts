/**
 * The Windows lane: synker's CLI and agent run by the official Windows build
 * of Node.js (node.exe 22) under Wine, next to Linux synker on loopback.
 * `.ci/wine.sh` installs the parts into .ci/cache/; without them a Windows
 * test skips outside CI and fails in CI (a lane that silently skipped would
 * prove nothing).
 *
 * Wine's own rules, learnt the hard way:
 * - node.exe's stdout and stderr must be files: any pipe gives EBADF.
 * - Each run gets the app copied fresh from dist/ (plus the win32 addons
 *   .ci/wine.sh installed), so the code under test is the code just built.
 * - `wineserver -p` keeps the prefix's server up between runs (~0.2 s a
 *   start instead of ~0.65-2.6 s); `wineserver -k` at the end stops every
 *   Windows process of the prefix, and only of that prefix.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = path.join(ROOT, '.ci', 'cache');
export const WIN_NODE_VERSION = '22.23.3';
const WINE = '/usr/lib/wine/wine64';
const WINESERVER = '/usr/lib/wine/wineserver';
const NODE_EXE = path.join(CACHE, `node-win-${WIN_NODE_VERSION}`, 'bin', 'node.exe');
const PREFIX = path.join(CACHE, 'wine-prefix');
const WIN_MODULES = path.join(CACHE, 'win-app', 'node_modules');

/** Why the lane cannot run here, or undefined when it can. */
export function windowsLaneMissing(): string | undefined {
  for (const [file, what] of [
    [WINE, 'Wine (wine64)'],
    [NODE_EXE, `node.exe ${WIN_NODE_VERSION}`],
    [path.join(PREFIX, 'system.reg'), 'the Wine prefix'],
    [WIN_MODULES, "synker's Windows dependencies"],
  ] as const) {
    if (!existsSync(file)) return `${what} missing: \`bash .ci/wine.sh\` sets up the Windows lane`;
  }
  return undefined;
}

/** The `skip` option of a Windows test: a reason outside CI, never in CI (there the test fails, naming what is missing). */
export function skipWithoutWine(): string | false {
  const missing = windowsLaneMissing();
  return missing !== undefined && !process.env.CI ? missing : false;
}

/** A Linux path as Windows programs under Wine see it (Wine maps Z: to /). */
export function toWindowsPath(p: string): string {
  return `Z:${path.resolve(p).replaceAll('/', '\\')}`;
}

function wineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, WINEPREFIX: PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  delete out.DISPLAY;
  delete out.WAYLAND_DISPLAY;
  return out;
}

let app: string | undefined;

/** synker as a Windows user installs it: bin/, dist/src, src/web/assets and the win32 node_modules, once per test process. */
function windowsApp(): string {
  if (app !== undefined) return app;
  const missing = windowsLaneMissing();
  if (missing !== undefined) throw new Error(`the Windows lane cannot run: ${missing}`);
  const dir = path.join(os.tmpdir(), `synker-win-app-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(ROOT, 'dist', 'src'), path.join(dir, 'dist', 'src'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  // The status page's own files, as the package ships them ("files" in package.json).
  cpSync(path.join(ROOT, 'src', 'web', 'assets'), path.join(dir, 'src', 'web', 'assets'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  cpSync(WIN_MODULES, path.join(dir, 'node_modules'), { recursive: true });
  spawnSync(WINESERVER, ['-p'], { env: wineEnv(process.env), stdio: 'ignore' });
  process.once('exit', () => {
    spawnSync(WINESERVER, ['-k'], { env: wineEnv(process.env), stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  app = dir;
  return dir;
}

export interface WindowsResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let runs = 0;

function outputFiles(): { out: string; err: string } {
  const dir = path.join(windowsApp(), 'runs');
  mkdirSync(dir, { recursive: true });
  runs++;
  return { out: path.join(dir, `${runs}.out`), err: path.join(dir, `${runs}.err`) };
}

function spawnWindows(args: string[], env: NodeJS.ProcessEnv, files: { out: string; err: string }, script = ''): ChildProcess {
  const out = openSync(files.out, 'w');
  const err = openSync(files.err, 'w');
  try {
    return spawn(WINE, [NODE_EXE, toWindowsPath(script || path.join(windowsApp(), 'bin', 'synker.js')), ...args], {
      env: wineEnv(env),
      stdio: ['ignore', out, err],
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

const text = (file: string): string => readFileSync(file, 'utf8').replaceAll('\r\n', '\n');

export interface WindowsRun {
  /** The wine64 process, which is node.exe itself: SIGKILL ends it as Windows' TerminateProcess would. */
  child: ChildProcess;
  done: Promise<WindowsResult>;
}

/** `synker ARGS` run by node.exe, started; killed after `timeoutMs` (a hang fails the test, never holds it). */
export function startWindowsSynker(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): WindowsRun {
  const files = outputFiles();
  const child = spawnWindows(args, env, files);
  const done = new Promise<WindowsResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: text(files.out), stderr: text(files.err) });
    });
  });
  return { child, done };
}

export function runWindowsSynker(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<WindowsResult> {
  return startWindowsSynker(args, env, timeoutMs).done;
}

/**
 * A script (a Linux path, run as a Windows path) by node.exe, with the app's
 * compiled modules at `WINDOWS_APP/...` in its text replaced by their Windows
 * file URL: the code under test, imported by Windows Node.
 */
export async function runWindowsScript(source: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<WindowsResult> {
  const dir = path.join(windowsApp(), 'scripts');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `script-${++runs}.mjs`);
  const appUrl = `file:///${toWindowsPath(windowsApp()).replaceAll('\\', '/')}`;
  writeFileSync(file, source.replaceAll('WINDOWS_APP', appUrl));
  const files = outputFiles();
  const child = spawnWindows(args, env, files, file);
  return new Promise<WindowsResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: text(files.out), stderr: text(files.err) });
    });
  });
}

/** `wine reg ARGS` in the lane's prefix (Wine's registry: where winebrowser finds the Linux browser to start). */
export function wineReg(args: string[]): void {
  const r = spawnSync(WINE, ['reg', ...args], { env: wineEnv(process.env), stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`wine reg ${args.join(' ')} exited ${r.status}`);
}

export interface WindowsAgent {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** `synker agent --port 0 --no-discovery --no-schedule` on Windows, stopped when the test ends. */
export async function startWindowsAgent(t: TestContext, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<WindowsAgent> {
  const files = outputFiles();
  const child = spawnWindows(['agent', '--port', '0', '--listen', '127.0.0.1', '--no-discovery', '--no-schedule', ...extra], env, files);
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (exited) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // Node's SIGINT handler runs under Wine: the agent stops cleanly
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };
  t.after(stop);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = text(files.err);
    const match = /on port (\d+)/.exec(log);
    if (match) return { port: Number(match[1]), log: () => text(files.err), stop };
    if (exited || Date.now() > deadline) throw new Error(`the Windows agent did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An environment for a Windows synker whose files all live under `home` (a Linux path). */
export function windowsEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SYNKER_HOME: toWindowsPath(path.join(home, 'synker')),
    USERPROFILE: toWindowsPath(home),
    NO_COLOR: '1',
    SYNKER_NO_BROWSER: '1', // as for Linux synker (synker-cli.ts): a test opens a browser only on purpose
  };
  for (const key of ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'SYNKER_LOG', 'CI']) delete env[key];
  return env;
}
