/** `synker doctor`: find what stands between this machine and a verified backup, with a fix for each problem. */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME } from '../../config/defaults.js';
import { synkerDirs } from '../../dirs/dirs.js';
import { parseDuration } from '../../base/duration.js';
import { renderDoctorReport } from '../../doctor/render.js';
import { runDoctor } from '../../doctor/run.js';
import { addExamples } from '../help.js';
import { action, EXIT } from '../run.js';

interface DoctorFlags {
  json?: boolean;
  listen: string;
  interface?: string[];
  multicast: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('doctor')
    .description(
      'check the config, identity, agent port, multicast on each interface, peers and the mail server; each problem comes with a fix',
    )
    .option('--listen <duration>', "how long to listen for other hosts' mDNS traffic per interface", '3s')
    .option('--interface <name...>', 'check multicast only on these interfaces')
    .option('--no-multicast', 'skip the multicast check (it sends mDNS queries on the LAN)')
    .option('--json', 'print the findings as JSON')
    .action(
      action(async (flags: DoctorFlags, command: Command) => {
        // Not loadCliContext: a broken config is something to report, not a reason to stop.
        const globals = command.optsWithGlobals() as { config?: string };
        const dirs = synkerDirs();
        const report = await runDoctor({
          configFile: path.resolve(globals.config ?? path.join(dirs.config, CONFIG_FILE_NAME)),
          configDir: dirs.config,
          dataDir: dirs.data,
          listenMs: parseDuration(flags.listen),
          ...(flags.interface ? { interfaces: flags.interface } : {}),
          noMulticast: !flags.multicast,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify({ version: 1, ...report }, null, 2)}\n`);
        else process.stdout.write(renderDoctorReport(report, Boolean(process.stdout.isTTY) && !process.env.NO_COLOR));
        return report.problems > 0 ? EXIT.differences : EXIT.ok;
      }),
    );
  addExamples(command, [
    ['synker doctor', 'check everything; exit 1 when something needs fixing'],
    ['synker doctor --interface wlan0 --listen 10s', 'listen longer on the Wi-Fi for other devices'],
    ['synker doctor --json', 'findings for scripts'],
  ]);
}
