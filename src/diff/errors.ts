import { SynkerError } from '../base/errors.js';

/** A manifest the diff cannot trust (out of order, duplicated entries). */
export class DiffError extends SynkerError {}
