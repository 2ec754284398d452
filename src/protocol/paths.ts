/**
 * Paths from a peer are hostile: a later sync writes files under them. The
 * rules (docs/protocol.md, "Paths are hostile") reject anything that could
 * leave the folder root, alias another name, or touch synker's own `.synker`.
 */
import { META_DIR } from '../manifest/layout.js';
import { LIMITS } from './limits.js';

// Printable ASCII without backslash: the common case, which is NFC by definition.
const PLAIN_ASCII = /^[\x20-\x5b\x5d-\x7e]*$/;

/** Why `path` is not an acceptable manifest path, or undefined when it is. */
export function peerPathProblem(path: string, requireNfc: boolean): string | undefined {
  if (path.length === 0) return 'the path is empty';
  if (Buffer.byteLength(path, 'utf8') > LIMITS.pathBytes) return `the path is longer than ${LIMITS.pathBytes} bytes`;
  if (path.charCodeAt(0) === 0x2f) return 'the path is absolute';
  const plain = PLAIN_ASCII.test(path);
  if (!plain) {
    if (path.includes('\0')) return 'the path contains a NUL character';
    if (path.includes('\\')) return 'the path contains a backslash';
    if (requireNfc && path.normalize('NFC') !== path) return 'the path is not in Unicode NFC';
  }
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const end = slash === -1 ? path.length : slash;
    const length = end - start;
    if (length === 0) return 'the path has an empty component';
    if (length <= 2 && path.charCodeAt(start) === 0x2e) {
      if (length === 1 || path.charCodeAt(start + 1) === 0x2e) return `the path has a "${path.slice(start, end)}" component`;
    }
    if (start === 0 && length === META_DIR.length && path.startsWith(META_DIR)) return `the path is inside synker's own ${META_DIR} folder`;
    if (slash === -1) return undefined;
    start = slash + 1;
  }
}
