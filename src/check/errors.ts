import { SynkerError } from '../base/errors.js';

/** A check that cannot be done: no source found, wrong role, nothing to check. Exit code 2. */
export class CheckError extends SynkerError {}
