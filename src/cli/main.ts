/**
 * synker's command line. Commands are thin: they parse flags and call the
 * modules under src/. Logs go to stderr, results to stdout.
 */
import { Command, CommanderError } from 'commander';
import { setLogLevel } from '../base/log.js';
import { SYNKER_VERSION } from '../base/version.js';
import { loadAllCommands, loadCommandsForArgs, type RegisterCommand } from './commands/index.js';
import { EXIT, reportError } from './run.js';

/** The program with the given commands (default: all of them). */
export async function buildProgram(commands?: RegisterCommand[]): Promise<Command> {
  const program = new Command();
  program
    .name('synker')
    .description('Prove that a backup copy of a folder on another machine matches the original, and fix it when it does not.')
    .version(SYNKER_VERSION, '-V, --version')
    .option('--debug', 'verbose logs and stack traces on errors')
    .option('--config <file>', 'the config file to use (default: config.json in the config dir; see docs/configuration.md)')
    .showHelpAfterError('(run with --help for usage)')
    // Before the commands are added, so they inherit it: usage errors anywhere exit 2, not 1.
    .exitOverride()
    .hook('preAction', (thisCommand) => {
      if (thisCommand.opts().debug) setLogLevel('debug');
    });
  for (const register of commands ?? (await loadAllCommands())) register(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(await loadCommandsForArgs(argv.slice(2)));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 2.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.error;
      return;
    }
    process.exitCode = reportError(err);
  }
}

/**
 * A reader that stopped reading (`synker scan DIR | head`) is not an error:
 * the rest of the output has nowhere to go, so the command ends quietly, as
 * Unix tools do, instead of dying on an unhandled EPIPE with a stack trace.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? EXIT.ok);
  });
}

endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);
await main(process.argv);
