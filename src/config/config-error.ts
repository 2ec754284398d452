/**
 * Errors about the user config file. Messages start with `FILE:LINE:COLUMN:`
 * (the form compilers use, so editors and terminals can jump to it) and name
 * the key path, e.g. `config.json:7:7: folders[0].role: ...`.
 */
import { SynkerError } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import type { SourcePosition } from './json-source.js';

export class ConfigError extends SynkerError {
  readonly file: string;
  readonly position: SourcePosition | undefined;
  /** The key path the error is about (`folders[0].role`), when it is about one. */
  readonly key: string | undefined;

  constructor(
    code: string,
    file: string,
    message: string,
    options: { position?: SourcePosition | undefined; key?: string; hint?: string; cause?: unknown } = {},
  ) {
    // The file as a message shows it (a SYNKER_HOME holding a newline or ESC stays on one line); `file` keeps the real path.
    const shown = printablePath(file);
    const where = options.position ? `${shown}:${options.position.line}:${options.position.column}` : shown;
    super(code, `${where}: ${options.key ? `${options.key}: ` : ''}${message}`, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.file = file;
    this.position = options.position;
    this.key = options.key;
  }
}

/**
 * A setting of the `smtp` or `schedule` section that its parser refuses.
 * `key` names the setting (`smtp.port`), undefined when the error is about
 * the section as a whole: validate.ts locates the error in the file with it,
 * never by reading the message.
 */
export class SettingError extends SynkerError {
  readonly key: string | undefined;

  constructor(code: string, message: string, options: { key?: string; hint?: string; cause?: unknown } = {}) {
    super(code, message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.key = options.key;
  }
}
