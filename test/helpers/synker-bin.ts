/** Path of the advertise fixture, for tests and benchmarks that run it as a real process. */
import { fileURLToPath } from 'node:url';

export { SYNKER_BIN } from './synker-cli.js';
/** A process that only advertises (and optionally browses): test/fixtures/advertise.ts. */
export const ADVERTISE_FIXTURE = fileURLToPath(new URL('../fixtures/advertise.js', import.meta.url));
