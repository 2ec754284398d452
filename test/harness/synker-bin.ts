/** Path of the advertise fixture, for tests and benchmarks that run it as a real process. */
import { fileURLToPath } from 'node:url';

export { SYNKER_BIN } from './synker-cli.js';
/** A process that only advertises (and optionally browses): test/programs/advertise.ts. */
export const ADVERTISE_FIXTURE = fileURLToPath(new URL('../programs/advertise.js', import.meta.url));
/** A minimal agent serving one folder and advertising it: test/programs/serve-folder.ts. */
export const SERVE_FIXTURE = fileURLToPath(new URL('../programs/serve-folder.js', import.meta.url));
/** Fetches a manifest by device ID alone: test/programs/fetch-manifest.ts. */
export const FETCH_FIXTURE = fileURLToPath(new URL('../programs/fetch-manifest.js', import.meta.url));
