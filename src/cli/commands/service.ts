/** `synker service install|uninstall|print`: start the agent at login with the platform's own service manager. */
import type { Command } from 'commander';
import { UsageError } from '../../base/errors.js';
import { PLATFORM_NAMES, serviceFile } from '../../service/file.js';
import { installService, uninstallService } from '../../service/install.js';
import { agentServiceSpec, currentServicePlatform, parseServicePlatform } from '../../service/spec.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

interface ServiceOptions {
  config?: string;
  platform?: string;
}

export function register(program: Command): void {
  const service = program
    .command('service')
    .description('run the agent at login: a systemd user unit (Linux), a launchd agent (macOS), a Scheduled Task (Windows)');
  addExamples(service, [
    ['synker service install', 'start the agent now and at every login'],
    ['synker service print --platform macos', 'show the launchd plist without installing'],
    ['synker service uninstall', 'stop it and remove the service'],
  ]);

  addExamples(
    service
      .command('install')
      .description('write the service file for this platform and enable it (starts the agent now)')
      .action(
        // --config is the global option (the agent gets the same file): read it with the globals.
        action(async (_options: ServiceOptions, command: Command) => {
          const options = command.optsWithGlobals<ServiceOptions>();
          const platform = currentServicePlatform();
          const result = await installService(platform, agentServiceSpec(specOptions(options)));
          const out = process.stdout;
          out.write(
            `${result.replaced ? 'Updated' : 'Installed'} the synker agent service (${PLATFORM_NAMES[platform]}):\n  ${result.file.path}\n`,
          );
          out.write('The agent runs now, starts at every login, and restarts after a crash.\n');
          out.write(`Logs:   ${result.logs}\nRemove: synker service uninstall\n`);
        }),
      ),
    [
      ['synker service install', 'install and start the agent for the current user'],
      ['synker service install --config ~/synker.json', 'the agent uses this config file'],
    ],
  );

  addExamples(
    service
      .command('uninstall')
      .description('stop the agent service and remove its file')
      .action(
        action(async () => {
          const platform = currentServicePlatform();
          const result = await uninstallService(platform, agentServiceSpec());
          if (!result.removed) {
            process.stdout.write(`The synker agent service is not installed (no ${result.file.path}).\n`);
            return;
          }
          for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
          process.stdout.write(`Removed the synker agent service: ${result.file.path}\n`);
        }),
      ),
    [['synker service uninstall', 'stop the agent and stop starting it at login']],
  );

  addExamples(
    service
      .command('print')
      .description('show the service file `install` would write, without installing anything')
      .option('--platform <name>', 'linux, macos or windows (default: this machine)')
      .action(
        action((_options: ServiceOptions, command: Command) => {
          const options = command.optsWithGlobals<ServiceOptions>();
          const platform = options.platform ? parseServicePlatform(options.platform) : currentServicePlatform();
          const file = serviceFile(platform, agentServiceSpec(specOptions(options)));
          process.stderr.write(`# ${PLATFORM_NAMES[platform]}: \`synker service install\` writes this to ${file.path}\n`);
          process.stdout.write(file.text);
        }),
      ),
    [
      ['synker service print', 'the file for this machine'],
      ['synker service print --platform windows', 'the Scheduled Task XML'],
    ],
  );
}

function specOptions(options: ServiceOptions): { configFile?: string } {
  if (options.config === '') throw new UsageError('--config needs a file name');
  return options.config ? { configFile: options.config } : {};
}
