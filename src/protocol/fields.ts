/**
 * Field checks for the decoder: each either returns the value with its
 * domain type or throws a ProtocolError naming the message and field.
 */
import { ProtocolError } from './errors.js';

export type Body = Record<string, unknown>;

export function isMap(value: unknown): value is Body {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Integers up to this size are shown in full; larger ones (a float64 can be 10^308) in exponent form. */
const SHOWN_IN_FULL = 2n ** 64n;

function describe(value: unknown): string {
  if (value === null) return 'nil';
  // A number is shown: "got a number" for 2^60 or -1 does not say what is wrong with it. At most a few dozen characters:
  // the frame's shape check lets through no BigInt beyond 64 bits, and a huge float is shown as 1e+308.
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 64) return BigInt(value).toString();
  if (typeof value === 'bigint' && value < SHOWN_IN_FULL && value > -SHOWN_IN_FULL) return value.toString();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return 'an integer of more than 64 bits';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary data';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

export function malformed(where: string, field: string, expected: string, value: unknown): ProtocolError {
  if (value === undefined) return new ProtocolError('E_MALFORMED', `${where}: "${field}" is missing (it must be ${expected})`);
  return new ProtocolError('E_MALFORMED', `${where}: "${field}" must be ${expected}, got ${describe(value)}`);
}

/** What every protocol integer must be (docs/protocol.md, section 2). */
export const UINT = 'a non-negative integer below 2^53';

export function string(body: Body, field: string, where: string, maxBytes: number, minBytes = 0): string {
  const value = body[field];
  if (typeof value !== 'string') throw malformed(where, field, 'a string', value);
  checkStringSize(value, field, where, maxBytes, minBytes);
  return value;
}

export function optionalString(body: Body, field: string, where: string, maxBytes: number, minBytes = 0): string | undefined {
  return body[field] === undefined || body[field] === null ? undefined : string(body, field, where, maxBytes, minBytes);
}

export function checkStringSize(value: string, field: string, where: string, maxBytes: number, minBytes = 0): void {
  if (value.length * 3 > maxBytes && Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new ProtocolError('E_LIMIT', `${where}: "${field}" is longer than ${maxBytes} bytes`);
  }
  if (value.length === 0 && minBytes > 0) throw new ProtocolError('E_MALFORMED', `${where}: "${field}" is empty`);
  if (value.length < minBytes)
    throw new ProtocolError('E_MALFORMED', `${where}: "${field}" is too short (${value.length} characters, at least ${minBytes})`);
}

export function uint(body: Body, field: string, where: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(where, field, UINT, value);
  }
  if (value > max) throw new ProtocolError('E_LIMIT', `${where}: "${field}" is ${value}, more than the limit ${max}`);
  return value;
}

export function optionalUint(body: Body, field: string, where: string, max?: number): number | undefined {
  return body[field] === undefined || body[field] === null ? undefined : uint(body, field, where, max);
}

export function optionalBoolean(body: Body, field: string, where: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw malformed(where, field, 'a boolean', value);
  return value;
}

export function stringArray(body: Body, field: string, where: string, maxItems: number, maxItemBytes: number): string[] {
  const value = body[field];
  if (!Array.isArray(value)) throw malformed(where, field, 'an array of strings', value);
  if (value.length > maxItems)
    throw new ProtocolError('E_LIMIT', `${where}: "${field}" has ${value.length} items, more than the limit ${maxItems}`);
  for (const item of value) {
    if (typeof item !== 'string') throw malformed(where, `${field}[]`, 'a string', item);
    checkStringSize(item, `${field}[]`, where, maxItemBytes);
  }
  return value as string[];
}

const CODE = /^[A-Z0-9_]+$/;
export function codeString(body: Body, field: string, where: string, maxBytes: number): string {
  const value = string(body, field, where, maxBytes, 1);
  if (!CODE.test(value)) throw malformed(where, field, 'a code of A-Z, 0-9 and _', value);
  return value;
}
