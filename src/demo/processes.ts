/**
 * The demo's child processes (two agents, and each `synker check` / `sync`
 * it runs): started from this synker's own launcher, each in its own process
 * group so the demo alone decides when they stop, and all of them stopped
 * when the demo ends — normally, on Ctrl-C, or on a failure. If the demo
 * process itself exits early, whatever is still running is killed on the way
 * out, so nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { synkerLauncherPath } from '../service/spec.js';
import { DemoError } from './errors.js';

/** Output kept per process, for error messages (the tail is what matters). */
const KEEP_OUTPUT_CHARS = 64 * 1024;
/** How long a stopped process may take to say goodbye before it is killed. */
const STOP_GRACE_MS = 5_000;

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class SynkerProcess {
  readonly exited: Promise<Finished>;
  private stdout = '';
  private stderr = '';
  private readonly watchers = new Set<() => void>();
  /** Set when the process could not be started at all (spawn failed). */
  private spawnFailed = false;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    const keep = (text: string, chunk: string): string => (text + chunk).slice(-KEEP_OUTPUT_CHARS);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout = keep(this.stdout, d);
      this.notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = keep(this.stderr, d);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.spawnFailed = true;
        this.stderr += `\n${err.message}`;
        this.notify();
        resolve({ code: null, signal: null, stdout: this.stdout, stderr: this.stderr });
      });
      child.once('close', (code, signal) => {
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  get running(): boolean {
    return !this.spawnFailed && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** stderr so far (the agents' logs). */
  log(): string {
    return this.stderr;
  }

  /** Waits until stderr matches `pattern`; fails if the process exits first, after `timeoutMs`, or on `signal`. */
  waitForLog(pattern: RegExp, timeoutMs: number, signal: AbortSignal): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        this.watchers.delete(check);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = (): void => {
        const match = pattern.exec(this.stderr);
        if (match) finish(undefined, match);
        else if (!this.running)
          finish(new Error(`the ${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready`));
      };
      const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('interrupted'));
      const timer = setTimeout(() => finish(new Error(`the ${this.label} was not ready after ${timeoutMs / 1000} s`)), timeoutMs);
      this.watchers.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

export class ProcessGroup {
  private readonly processes = new Set<SynkerProcess>();
  private readonly killOnExit = (): void => {
    for (const p of this.processes) if (p.running) killGroup(p.child, 'SIGKILL');
  };

  constructor() {
    process.on('exit', this.killOnExit);
  }

  /** `synker ARGS...` with its own environment (its own SYNKER_HOME). */
  start(label: string, args: string[], env: NodeJS.ProcessEnv): SynkerProcess {
    // Own process group (POSIX): a Ctrl-C at the terminal reaches the demo only, which then stops them in order.
    // On Windows `detached` would open a console window per child instead.
    const child = spawn(process.execPath, [synkerLauncherPath(), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const p = new SynkerProcess(label, child);
    this.processes.add(p);
    void p.exited.then(() => this.processes.delete(p));
    return p;
  }

  /** Runs `synker ARGS...` to the end; stopped (and the DemoError thrown) if `signal` aborts or it runs past `timeoutMs`. */
  async run(label: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal): Promise<Finished> {
    const p = this.start(label, args, env);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void this.stop(p);
    }, timeoutMs);
    const onAbort = (): void => void this.stop(p);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await p.exited;
      signal.throwIfAborted();
      if (timedOut) {
        throw new DemoError('E_DEMO_STEP_TIMEOUT', `${label} did not finish within ${timeoutMs / 1000} s`, {
          hint: 'The machine may be very busy; run the demo again, or run synker doctor to see what is in the way.',
        });
      }
      return result;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** SIGTERM (agents say goodbye on the network), SIGKILL after a grace period; resolves when it has exited. */
  async stop(p: SynkerProcess): Promise<void> {
    if (!p.running) return;
    killGroup(p.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), STOP_GRACE_MS);
    await p.exited;
    clearTimeout(timer);
  }

  /** Stops every process still running; afterwards none of them is. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes].map((p) => this.stop(p)));
  }

  /** Stops everything and stops watching the demo's own exit. */
  async close(): Promise<void> {
    await this.stopAll();
    process.off('exit', this.killOnExit);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // The whole group: a child's own helpers (hash workers are threads, but be sure) go with it.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}
