/**
 * `npm run bench [-- NAME...]`: runs every bench/*.bench.ts suite (or those
 * whose file name contains one of the given words) one after another, so
 * their timings do not disturb each other. Each suite prints its own table
 * with ratios against the tools a user would otherwise pick.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const suites = (await readdir(here)).filter((f) => f.endsWith('.bench.js')).sort();
const selected = suites.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (selected.length === 0) {
  process.stderr.write(`no benchmark suite matches ${filters.join(', ')}; available: ${suites.join(', ')}\n`);
  process.exitCode = 2;
}
for (const file of selected) {
  process.stdout.write(`\n=== ${file.replace(/\.bench\.js$/, '')} ===\n`);
  const suite = (await import(pathToFileURL(path.join(here, file)).href)) as { run: () => Promise<void> };
  await suite.run();
}
