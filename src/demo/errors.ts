import { SynkerError } from '../base/errors.js';

/**
 * `synker demo` could not run or finish a step: the folder is not one a demo
 * made, an agent did not start, a step's result was not what the sample
 * guarantees. The message says which step; the hint what to do.
 */
export class DemoError extends SynkerError {}
