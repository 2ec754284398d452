/** Paths of the built CLI and test fixtures, for tests that run them as real processes. */
import { fileURLToPath } from 'node:url';

/** bin/synker.js, the real command line. */
export const SYNKER_BIN = fileURLToPath(new URL('../../../bin/synker.js', import.meta.url));
/** A process that only advertises (and optionally browses): test/fixtures/advertise.ts. */
export const ADVERTISE_FIXTURE = fileURLToPath(new URL('../fixtures/advertise.js', import.meta.url));
