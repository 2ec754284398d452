/**
 * Questions on a terminal (node:readline): each shows its default in
 * brackets, Enter keeps it, and an answer that does not validate is asked
 * again with the reason. Secrets are read without echo.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';

export interface Prompter {
  /** Ask until `validate` returns undefined (no problem); returns the trimmed answer or the default. */
  ask(question: string, options?: { default?: string; validate?: (answer: string) => string | undefined }): Promise<string>;
  /** Yes/no; Enter keeps the default. */
  confirm(question: string, defaultYes: boolean): Promise<boolean>;
  /** Read a line without showing what is typed. */
  secret(question: string): Promise<string>;
  /** A line of explanation between questions. */
  say(text: string): void;
  close(): void;
}

export function createPrompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Prompter {
  let muted = false;
  // readline echoes typed characters to its output: route them through a gate for secrets.
  const gate = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) output.write(chunk);
      callback();
    },
  });
  const rl = readline.createInterface({ input, output: gate, terminal: Boolean((output as { isTTY?: boolean }).isTTY) });
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let closed = false;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const next of waiting.splice(0)) next(undefined);
  });

  const readLine = (prompt: string): Promise<string> => {
    gate.write(prompt);
    const buffered = lines.shift();
    if (buffered !== undefined) return Promise.resolve(buffered);
    if (closed) return Promise.reject(new PromptClosedError());
    return new Promise((resolve, reject) => waiting.push((line) => (line === undefined ? reject(new PromptClosedError()) : resolve(line))));
  };

  return {
    async ask(question, options = {}) {
      for (;;) {
        const suffix = options.default !== undefined && options.default !== '' ? ` [${options.default}]` : '';
        const answer = (await readLine(`${question}${suffix}: `)).trim();
        const value = answer === '' ? (options.default ?? '') : answer;
        const problem = options.validate?.(value);
        if (problem === undefined) return value;
        gate.write(`  ${problem}\n`);
      }
    },
    async confirm(question, defaultYes) {
      for (;;) {
        const answer = (await readLine(`${question} ${defaultYes ? '[Y/n]' : '[y/N]'}: `)).trim().toLowerCase();
        if (answer === '') return defaultYes;
        if (['y', 'yes'].includes(answer)) return true;
        if (['n', 'no'].includes(answer)) return false;
        gate.write('  Please answer y or n.\n');
      }
    },
    async secret(question) {
      gate.write(`${question}: `);
      muted = true;
      try {
        const line = lines.shift() ?? (await readLine(''));
        return line;
      } finally {
        muted = false;
        gate.write('\n');
      }
    },
    say(text) {
      gate.write(`${text}\n`);
    },
    close() {
      rl.close();
    },
  };
}

/** The input ended (Ctrl-D, or a closed pipe) before every question was answered. */
export class PromptClosedError extends Error {
  constructor() {
    super('the input ended before every question was answered');
  }
}
