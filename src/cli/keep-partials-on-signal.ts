/**
 * Ctrl-C or SIGTERM during a sync or restore. Node's default is to exit at
 * once, and a large file being received holds up to 1 MiB staged for its
 * next direct write (sync/direct-write.ts): those bytes would be lost to the
 * resume. The handler writes them out, then exits as the signal would have
 * (128 + its number). Everything else is already safe to stop anywhere:
 * nothing lands before it is verified.
 */
import os from 'node:os';
import { formatCount } from '../base/units.js';
import { keepReceivedBytesSync } from '../sync/incoming-file.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Installs the handler; the returned function removes it. */
export function keepPartialsOnSignal(command: 'sync' | 'restore'): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const receiving = keepReceivedBytesSync();
    const kept =
      receiving === 0
        ? ''
        : ` ${receiving === 1 ? 'The file' : `The ${formatCount(receiving)} files`} partly received ${receiving === 1 ? 'is' : 'are'} kept for the resume: the next synker ${command} continues where ${receiving === 1 ? 'it' : 'they'} stopped.`;
    process.stderr.write(`\n${signal}: stopped.${kept}\n`);
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}
