/** `synker id`: print this device's ID (creating the identity on first run). */
import type { Command } from 'commander';
import { formatDeviceId } from '../../identity/device-id.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

export function register(program: Command): void {
  const id = program
    .command('id')
    .description("print this device's ID (give it to `synker trust` on the other machine)")
    .option('--json', 'print {deviceId, name} as JSON')
    .action(
      action(async (opts: { json?: boolean }, command: Command) =>
        withCliContext(command.optsWithGlobals(), async (ctx) => {
          const identity = await ctx.identity();
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ deviceId: identity.deviceId, formatted: formatDeviceId(identity.deviceId), name: ctx.store.current().name })}\n`,
            );
          } else {
            process.stdout.write(`${formatDeviceId(identity.deviceId)}\n`);
          }
        }),
      ),
    );
  addExamples(id, [
    ['synker id', "print this device's ID, to trust it on the other machine"],
    ['synker id --json', 'the same for scripts, with the agent name'],
  ]);
}
