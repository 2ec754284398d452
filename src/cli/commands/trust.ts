/**
 * `synker trust <DEVICE-ID> [--name N]`, `synker untrust <ID|NAME>`,
 * `synker trusted [--json]`. A running agent picks the change up by itself.
 */
import type { Command } from 'commander';
import { formatDeviceId, parseDeviceId, shortDeviceId } from '../../identity/device-id.js';
import { describeDevice, deviceNameConflict, resolveTrustedDevice } from '../../config/device-ref.js';
import type { TrustedDevice } from '../../config/types.js';
import { trustedNameProblem } from '../../config/device-name.js';
import { UsageError } from '../../base/errors.js';
import { printableText } from '../../base/printable.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action, EXIT, ExitError } from '../run.js';
import { formatTable } from '../table.js';
import { hasUnprintable, printablePath } from '../../base/printable.js';

export function register(program: Command): void {
  const trust = program
    .command('trust')
    .description('trust another device, so it may connect and see the folders shared with it')
    .argument('<device-id>', 'the ID that `synker id` prints on the other device')
    .option('--name <name>', 'a name for it (default: the name it announced when it tried to connect)')
    .action(
      action(async (ref: string, opts: { name?: string }, command: Command) => {
        const deviceId = parseDeviceId(ref);
        if (opts.name !== undefined) checkDeviceName(opts.name);
        return withCliContext(command.optsWithGlobals(), async (ctx) => {
          const own = await ctx.identity();
          if (own.deviceId === deviceId) {
            throw new UsageError("that is this device's own ID", 'Run `synker id` on the other device and trust the ID it prints.');
          }
          const state = await ctx.state();
          const announced = state.pairingAttempts().find((a) => a.deviceId === deviceId)?.name;
          const outcome = await ctx.store.update((config) => {
            const unusable = opts.name === undefined && announced ? whyUnusable(config, announced, deviceId) : undefined;
            const name = opts.name?.trim() ?? (announced && unusable === undefined ? announced.trim() : undefined);
            if (name !== undefined) {
              const conflict = deviceNameConflict(config.trusted, name, deviceId);
              if (conflict) throw new UsageError(conflict, 'Pick another --name.');
            }
            // The reverse: this device's first group must not already be another device's name.
            const shadowing = config.trusted.find((t) => t.deviceId !== deviceId && t.name?.toUpperCase() === shortDeviceId(deviceId));
            if (shadowing) {
              throw new UsageError(
                `this device's ID starts with "${shortDeviceId(deviceId)}", which is the name of ${formatDeviceId(shadowing.deviceId)}`,
                `Rename that device first: synker trust ${formatDeviceId(shadowing.deviceId)} --name OTHER-NAME`,
              );
            }
            const existing = config.trusted.find((t) => t.deviceId === deviceId);
            if (existing) {
              const before = existing.name;
              if (opts.name !== undefined && name !== undefined) existing.name = name;
              const renamed = existing.name !== before ? { from: before } : undefined;
              return { added: false, name: existing.name, unusable: undefined, renamed };
            }
            config.trusted.push(name === undefined ? { deviceId } : { deviceId, name });
            return { added: true, name, unusable, renamed: undefined };
          });
          await state.forgetPairingAttempt(deviceId);
          const who = `${outcome.name ? `${printablePath(outcome.name)} ` : ''}${formatDeviceId(deviceId)}`;
          // A rename is a change to the config: said, with the name it replaces, never done silently.
          const renamed =
            outcome.renamed === undefined
              ? ''
              : ` (renamed: ${outcome.renamed.from === undefined ? 'no name' : `"${printableText(outcome.renamed.from)}"`} -> "${printableText(outcome.name ?? '')}")`;
          process.stdout.write(outcome.added ? `trusted ${who}\n` : `already trusted: ${who}${renamed}\n`);
          // Dropped quietly, the device would just show up nameless later: say why, and how to name it.
          if (outcome.unusable !== undefined) {
            process.stderr.write(
              `note: the name it announced was not kept: ${outcome.unusable}\n` +
                `hint: give it a name: synker trust ${formatDeviceId(deviceId)} --name NAME\n`,
            );
          }
          if (outcome.added)
            process.stderr.write(
              `hint: share folders with it: synker folder share FOLDER ${outcome.name !== undefined && !hasUnprintable(outcome.name) ? outcome.name : shortDeviceId(deviceId)}\n`,
            );
        });
      }),
    );

  addExamples(trust, [
    [
      'synker trust MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD --name nas',
      'trust the device whose `synker id` is that',
    ],
  ]);

  const untrust = program
    .command('untrust')
    .description('stop trusting a device (it is also removed from every folder shared with it)')
    .argument('<device>', 'device ID, the name given to it, or the first group of its ID')
    .action(
      action(async (ref: string, _opts: unknown, command: Command) =>
        withCliContext(command.optsWithGlobals(), async (ctx) => {
          const removed = await ctx.store.update((config) => {
            let device;
            try {
              device = resolveTrustedDevice(config, ref);
            } catch (err) {
              throw new ExitError(
                EXIT.differences,
                'E_UNKNOWN_DEVICE',
                (err as Error).message,
                'Run `synker trusted` to list trusted devices.',
              );
            }
            config.trusted = config.trusted.filter((t) => t.deviceId !== device.deviceId);
            const unshared: string[] = [];
            for (const folder of config.folders) {
              if (folder.shareWith.includes(device.deviceId)) {
                folder.shareWith = folder.shareWith.filter((id) => id !== device.deviceId);
                unshared.push(folder.id);
              }
            }
            return { device, unshared };
          });
          process.stdout.write(`untrusted ${printablePath(describeDevice(removed.device, removed.device.deviceId))}\n`);
          if (removed.unshared.length > 0) process.stdout.write(`no longer shared with it: ${removed.unshared.join(', ')}\n`);
        }),
      ),
    );

  addExamples(untrust, [
    ['synker untrust nas', 'by the name given with --name'],
    ['synker untrust MFZWI3D', 'by the first group of its device ID'],
  ]);

  const trusted = program
    .command('trusted')
    .description('list trusted devices and the folders shared with each')
    .option('--json', 'print a JSON array')
    .action(
      action(async (opts: { json?: boolean }, command: Command) =>
        withCliContext(command.optsWithGlobals(), async (ctx) => {
          const config = ctx.store.current();
          const rows = config.trusted.map((t) => ({
            deviceId: t.deviceId,
            name: t.name ?? null,
            folders: config.folders.filter((f) => f.shareWith.includes(t.deviceId)).map((f) => f.id),
          }));
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          } else if (rows.length === 0) {
            process.stderr.write('no trusted devices (add one with `synker trust DEVICE-ID`)\n');
          } else {
            process.stdout.write(
              formatTable(
                ['NAME', 'DEVICE ID', 'FOLDERS'],
                rows.map((r) => [
                  r.name === null ? '-' : printablePath(r.name),
                  formatDeviceId(r.deviceId),
                  printablePath(r.folders.join(', ')) || '-',
                ]),
              ),
            );
          }
        }),
      ),
    );
  addExamples(trusted, [
    ['synker trusted', 'names, device IDs and shared folders'],
    ['synker trusted --json', 'the same as JSON'],
  ]);
}

function checkDeviceName(name: string): void {
  const problem = trustedNameProblem(name);
  if (problem !== undefined) throw new UsageError(`--name ${problem}`);
}

/** Why a name a device announced cannot be its name (it is peer-controlled: it must be valid and not taken); undefined when it can. */
function whyUnusable(config: { trusted: readonly TrustedDevice[] }, name: string, deviceId: string): string | undefined {
  const problem = trustedNameProblem(name);
  if (problem !== undefined) return `a name ${problem}`;
  // The device chose it: a right-to-left override or a C1 control would make it read as another name wherever it is shown.
  if (hasUnprintable(name)) return `the name ${printablePath(name)} holds control or bidirectional-override characters`;
  return deviceNameConflict(config.trusted, name, deviceId);
}
