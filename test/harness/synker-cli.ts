/** Run the built CLI (bin/synker.js) as a user would, in a child process. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SYNKER_BIN = fileURLToPath(new URL('../../../bin/synker.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill the child after this long (a hung command fails the test instead of hanging it). */
  timeoutMs?: number;
}

export function runSynker(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SYNKER_BIN, ...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * An environment whose HOME and SYNKER_HOME are `home`: nothing touches the real user's files. Its own
 * runtime folder too (XDG_RUNTIME_DIR, where agents register for this machine's other homes): each
 * home is a machine of its own unless a test gives two the same one.
 */
export function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    SYNKER_HOME: `${home}/synker`,
    XDG_RUNTIME_DIR: `${home}/run`,
    NO_COLOR: '1',
    // `synker ui` and `status --open` print the page's address: a test never opens a browser.
    SYNKER_NO_BROWSER: '1',
    ...extra,
  };
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_DATA_HOME;
  delete env.XDG_CACHE_HOME;
  delete env.SYNKER_LOG;
  return env;
}
