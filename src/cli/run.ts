/**
 * The one place where errors become exit codes and user-facing words.
 * Commands throw typed errors; this prints `error: <message>` and the hint to
 * stderr, and a stack trace only with --debug. Programmer errors (TypeError
 * and friends) are called bugs to report, with their stack under --debug.
 */
import { SynkerError } from '../base/errors.js';
import { isLogLevelEnabled } from '../base/log.js';
import { printableText } from '../base/printable.js';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, differences: 1, error: 2 } as const;

/** An error that carries its own exit code (e.g. `synker peers` finding nobody exits 1). */
export class ExitError extends SynkerError {
  readonly exitCode: number;
  constructor(exitCode: number, code: string, message: string, hint?: string) {
    super(code, message, hint === undefined ? {} : { hint });
    this.exitCode = exitCode;
  }
}

/** `error: MESSAGE` and `hint: HINT` on stderr, escaped: messages quote names that come from disk or from the peer. */
export function printError(err: { message: string; hint?: string | null | undefined }): void {
  process.stderr.write(`error: ${printableText(err.message)}\n`);
  if (err.hint) process.stderr.write(`hint: ${printableText(err.hint)}\n`);
}

export function reportError(err: unknown): number {
  if (err instanceof SynkerError) {
    printError(err);
    if (isLogLevelEnabled('debug') && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof ExitError ? err.exitCode : EXIT.error;
  }
  // A bug: the stack is what a report needs, but a user sees it only when asking for it.
  const debug = isLogLevelEnabled('debug');
  const bug = err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err);
  process.stderr.write(`internal error (please report it): ${bug}\n`);
  if (!debug) process.stderr.write('hint: Run the same command with --debug and include its output in the report.\n');
  return EXIT.error;
}

/**
 * Wrap a commander action: the action returns the exit code (default 0);
 * thrown errors are reported. Sets process.exitCode rather than exiting so
 * pending output is flushed.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a command may return its exit code or nothing (0)
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
