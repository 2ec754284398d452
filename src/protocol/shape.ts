/**
 * The first look at a received frame, before msgpackr builds anything: one
 * pass over the bytes, no allocation, cost linear in the frame's size
 * whatever it holds. It refuses what the protocol never sends and what would
 * make decoding costly: extension types (a msgpack "BigInt" extension of
 * 1 MiB took msgpackr and its error message 1.2 s and 2.5 MB of digits;
 * others build Errors, RegExps, Sets or records), nesting deeper than
 * MAX_DEPTH, map keys that are not strings, counts the remaining bytes
 * cannot hold, more than MAX_VALUES values or MAX_MAP_PAIRS pairs in a map,
 * truncation and bytes after the value. What passes is plain
 * msgpack (nil, booleans, numbers, strings, binary, arrays, maps with string
 * keys), which msgpackr decodes in time proportional to its size.
 */
import { ProtocolError } from './errors.js';

/** Arrays and maps inside one another: version 1's deepest is 5 (frame, body, entries, entry, flags). */
export const MAX_DEPTH = 16;
/**
 * Values in one frame, map keys included: version 1's most are a batch of
 * 1,000 entries of at most 19 values each, or 10,000 ignore lines. A frame
 * of 120,000 map keys took msgpackr 0.3 s to build; 65,536 plain values take
 * a few milliseconds.
 */
export const MAX_VALUES = 65_536;
/** Pairs in one map: version 1's bodies have at most 8 fields. */
export const MAX_MAP_PAIRS = 1024;

/** Bytes after the type byte of the fixed-width types (nil, booleans, floats, ints), undefined for every other byte. */
function fixedSize(byte: number): number | undefined {
  switch (byte) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return 0;
    case 0xcc: // uint 8, int 8
    case 0xd0:
      return 1;
    case 0xcd: // uint 16, int 16
    case 0xd1:
      return 2;
    case 0xca: // float 32, uint 32, int 32
    case 0xce:
    case 0xd2:
      return 4;
    case 0xcb: // float 64, uint 64, int 64 (msgpackr: a BigInt of 64 bits at most)
    case 0xcf:
    case 0xd3:
      return 8;
    default:
      return undefined;
  }
}

function refuse(what: string): never {
  throw new ProtocolError('E_MALFORMED', `the peer sent a frame that is not valid msgpack for this protocol (${what})`);
}

function overCap(what: string): never {
  throw new ProtocolError('E_LIMIT', `the peer sent a frame with ${what}`);
}

/**
 * Throws E_MALFORMED unless `frame` is exactly one plain msgpack value (see
 * above), E_LIMIT past a cap (depth, values, map pairs). Iterative: a million nested arrays cost a million steps, not a
 * million stack frames (and stop at MAX_DEPTH anyway).
 */
export function checkFrameShape(frame: Uint8Array): void {
  const end = frame.length;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  // Per open container: values still to read in it, and whether the next one is a map key.
  const left: number[] = [];
  const isMap: boolean[] = [];
  const keyNext: boolean[] = [];
  let pos = 0;
  let values = 1; // values still to read at the top level
  let seen = 0;
  while (values > 0 || left.length > 0) {
    // Close finished containers.
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      isMap.pop();
      keyNext.pop();
    }
    if (left.length === 0 && values === 0) break;
    if (pos >= end) refuse('it ends in the middle of a value');
    let wantKey = false;
    if (left.length > 0) {
      const top = left.length - 1;
      left[top]!--;
      if (isMap[top]) {
        wantKey = keyNext[top]!;
        keyNext[top] = !wantKey;
      }
    } else {
      values--;
    }
    if (++seen > MAX_VALUES) overCap(`more than ${MAX_VALUES} values`);
    const byte = frame[pos++]!;
    let length = -1; // bytes of payload to skip
    let children = -1; // elements of an array, or keys + values of a map
    let map = false;
    if (byte <= 0x7f || byte >= 0xe0)
      length = 0; // fixint
    else if (byte <= 0x8f) {
      children = (byte & 0x0f) * 2;
      map = true;
    } else if (byte <= 0x9f) children = byte & 0x0f;
    else if (byte <= 0xbf)
      length = byte & 0x1f; // fixstr
    else {
      const fixed = fixedSize(byte);
      if (fixed !== undefined) length = fixed;
      else {
        const sizeBytes = byte === 0xc4 || byte === 0xd9 ? 1 : byte === 0xc5 || byte === 0xda || byte === 0xdc || byte === 0xde ? 2 : 4;
        switch (byte) {
          case 0xc4: // bin 8/16/32
          case 0xc5:
          case 0xc6:
          case 0xd9: // str 8/16/32
          case 0xda:
          case 0xdb:
          case 0xdc: // array 16/32
          case 0xdd:
          case 0xde: // map 16/32
          case 0xdf: {
            if (pos + sizeBytes > end) refuse('it ends in the middle of a length');
            const n = sizeBytes === 1 ? frame[pos]! : sizeBytes === 2 ? view.getUint16(pos) : view.getUint32(pos);
            pos += sizeBytes;
            if (byte >= 0xdc && byte <= 0xdd) children = n;
            else if (byte >= 0xde) {
              children = n * 2;
              map = true;
            } else length = n;
            break;
          }
          case 0xc1:
            refuse('byte 0xc1, which msgpack never uses');
            break;
          default:
            // 0xc7-0xc9 ext 8/16/32, 0xd4-0xd8 fixext: msgpackr turns these into BigInts, Errors, RegExps, records...
            refuse('an extension type, which this protocol never uses');
        }
      }
    }
    const isString = (byte >= 0xa0 && byte <= 0xbf) || (byte >= 0xd9 && byte <= 0xdb);
    if (wantKey && !isString) refuse('a map key that is not a string');
    if (children >= 0) {
      // Each element takes at least one byte: a count the rest of the frame cannot hold is a lie.
      if (children > end - pos)
        refuse(`a count of ${map ? children / 2 : children} that the frame's ${end - pos} remaining bytes cannot hold`);
      if (left.length >= MAX_DEPTH) overCap(`arrays or maps nested deeper than ${MAX_DEPTH}`);
      if (map && children / 2 > MAX_MAP_PAIRS) overCap(`a map of ${children / 2} pairs, more than ${MAX_MAP_PAIRS}`);
      left.push(children);
      isMap.push(map);
      keyNext.push(true);
    } else {
      if (length > end - pos) refuse('it ends in the middle of a value');
      pos += length;
    }
  }
  if (pos !== end) refuse(`${end - pos} bytes after the frame's value`);
}
