/**
 * `synker demo [--dir FOLDER] [--keep-open]`: see synker work before trusting it with
 * your photos (what `npm start` runs). Ctrl-C stops every process the demo
 * started and exits 130.
 */
import type { Command } from 'commander';
import { addExamples } from '../help.js';
import { action, ExitError } from '../run.js';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function register(program: Command): void {
  const demo = program
    .command('demo')
    .description('the whole job on this machine: sample folders, two agents on loopback, check, e-mailed report, sync, check again')
    .option('--dir <folder>', "where the sample folders and the report go (a previous demo's folder is cleared first)", 'demo')
    .option('--keep-open', "after the last step, keep the agents and the backup's status page running until Ctrl-C")
    .action(
      action(async (flags: { dir: string; keepOpen?: boolean }) => {
        const interrupt = new AbortController();
        const onSignal = (signal: NodeJS.Signals): void => {
          interrupt.abort(
            new ExitError(
              128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15),
              'E_DEMO_INTERRUPTED',
              `${signal}: the demo stopped; its agents and mail server are stopped too`,
              'Run it again: it starts over in the same folder.',
            ),
          );
        };
        for (const s of STOP_SIGNALS) process.on(s, onSignal);
        try {
          // Loaded on demand: the demo's mail server and helpers stay out of every other command's start-up.
          const { runDemo } = await import('../../demo/run.js');
          await runDemo({
            dir: flags.dir,
            write: (text) => process.stdout.write(text),
            signal: interrupt.signal,
            ...(flags.keepOpen === true ? { keepOpen: true } : {}),
          });
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onSignal);
        }
      }),
    );
  addExamples(demo, [
    ['synker demo', 'everything under ./demo; prints where the report went'],
    ['synker demo --dir /tmp/synker-demo', 'somewhere else'],
    ['synker demo --keep-open', "then keep the backup's status page open until Ctrl-C (npm start -- --keep-open)"],
  ]);
}
