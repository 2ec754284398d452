export { diffManifests, totalsByCategory } from './diff.js';
export { DiffError } from './errors.js';
export { FAT_TOLERANCE_MS } from './mtime.js';
export * from './types.js';
