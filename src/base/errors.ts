/**
 * Every error synker raises on purpose is a SynkerError with a stable `code`
 * and a message a user can act on. Every code has a row in docs/errors.md
 * (test/unit/error-codes-doc.test.ts reads the codes from src/ and fails on a
 * missing or stale row). Modules subclass it (ScanError, ProtocolError, ...)
 * so callers can branch on type.
 */
export class SynkerError extends Error {
  readonly code: string;
  /** Suggested next step for the user, printed after the message by the CLI. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Command-line misuse: bad flag values, missing arguments. Exit code 2. */
export class UsageError extends SynkerError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, hint === undefined ? {} : { hint });
  }
}

/**
 * Programmer errors must never be swallowed by a catch-all that turns
 * failures into user-facing messages: re-throw them.
 */
export function rethrowIfBug(err: unknown): void {
  if (err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError) {
    throw err;
  }
}

/** The errno-style code of a Node.js system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
