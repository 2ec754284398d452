/**
 * `synker ui [--no-open]`: the running agent's status page, its address
 * (with the token) printed and opened in the browser.
 */
import type { Command } from 'commander';
import { synkerDirs } from '../../dirs/dirs.js';
import { printAndOpen } from '../open-page.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

export function register(program: Command): void {
  const command = program
    .command('ui')
    .description("open the agent's status page in the browser (prints its address, with the token it needs)")
    .option('--no-open', 'print the address only');
  addExamples(command, [
    ['synker ui', 'the status page, in the browser'],
    ['synker ui --no-open', 'its address, to open elsewhere on this machine'],
  ]);
  command.action(
    action(async (flags: { open: boolean }) => {
      await printAndOpen(synkerDirs().data, flags.open);
    }),
  );
}
