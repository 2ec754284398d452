/**
 * Preloaded with `--import` (through NODE_OPTIONS) by tests of what a command
 * loads: registers resolve hooks that append every module URL the process
 * resolves to the file named in SYNKER_TEST_IMPORTS_FILE.
 */
import { register } from 'node:module';

register(new URL('./record-imports-hooks.js', import.meta.url));
