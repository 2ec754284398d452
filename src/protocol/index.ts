/** Protocol version 1: messages, the one encoder and the one validating decoder, limits, errors. */
export * from './limits.js';
export * from './messages.js';
export * from './errors.js';
export { encodeMessage, encodeFrame, encodeFileDataInHeadroom, FILE_DATA_HEADROOM } from './encode.js';
export { decodeFrame } from './decode.js';
export { toWireEntry, fromWireEntry, estimateWireBytes, type WireEntry } from './wire-entry.js';
export { peerPathProblem } from './paths.js';
