import { readFileSync } from 'node:fs';

/** synker's own version, from package.json (dist/src/base/version.js -> ../../package.json). */
export const SYNKER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
