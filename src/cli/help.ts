/**
 * Every command's --help ends with examples: people copy a working line
 * before they read an option list.
 */
import type { Command } from 'commander';

/** Examples as [command line, what it does]. */
export function addExamples(command: Command, examples: Array<[string, string]>): Command {
  const width = Math.max(...examples.map(([line]) => line.length));
  const text = ['', 'Examples:', ...examples.map(([line, what]) => `  $ ${line.padEnd(width)}  # ${what}`)].join('\n');
  return command.addHelpText('after', text);
}
