/**
 * A strict JSON (RFC 8259) parser that remembers where every value starts,
 * so a config error can name the line and column of a syntax error and the
 * line of the key a schema error is about. JSON.parse cannot do either
 * (Node 20's messages carry a position only for some errors). Duplicate keys
 * are refused: in a hand-edited file the second `"port"` silently winning is
 * a trap. Objects are created without a prototype so `__proto__` is just a key.
 */

export interface SourcePosition {
  line: number;
  column: number;
}

/** A key path: object keys and array indexes from the root, e.g. ['folders', 0, 'role']. */
export type JsonPath = ReadonlyArray<string | number>;

export class JsonSyntaxError extends Error {
  readonly position: SourcePosition;
  readonly path: JsonPath;
  /** 'escape': a backslash not followed by one of `"\/bfnrtu` (a Windows path with single backslashes, mostly). */
  readonly reason: 'escape' | undefined;
  constructor(message: string, position: SourcePosition, path: JsonPath, reason?: 'escape') {
    super(message);
    this.name = 'JsonSyntaxError';
    this.position = position;
    this.path = path;
    this.reason = reason;
  }
}

export interface ParsedJson {
  value: unknown;
  /** Position of the value at `path` (for object members: of its key), if present in the text. */
  locate(path: JsonPath): SourcePosition | undefined;
}

/** `folders[0].role`-style rendering of a key path (`(top level)` for the root). */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += /^[A-Za-z_$][\w$]*$/.test(part) ? (out === '' ? part : `.${part}`) : `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(top level)' : out;
}

export function parseJsonWithLocations(text: string): ParsedJson {
  const positions = new Map<string, number>();
  let i = 0;
  const path: Array<string | number> = [];

  const positionOf = (offset: number): SourcePosition => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < offset && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  };
  const fail = (message: string, offset = i, reason?: 'escape'): never => {
    throw new JsonSyntaxError(message, positionOf(offset), [...path], reason);
  };
  const describe = (offset: number): string => (offset >= text.length ? 'end of file' : `${JSON.stringify(text[offset])}`);
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const key = (p: JsonPath): string => JSON.stringify(p);

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in a string', i);
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          fail(`invalid escape \\${next ?? ''} in a string`, i, 'escape');
        }
        continue;
      }
      if (c < 0x20)
        fail(c === 0x0a ? 'a string is not closed before the end of the line' : 'a control character inside a string must be escaped', i);
      i++;
    }
    return fail('a string is not closed before the end of the file', start);
  };

  const parseValue = (): unknown => {
    skipSpace();
    positions.set(key(path), positions.get(key(path)) ?? i);
    const c = text[i];
    if (c === '{') return parseObject();
    if (c === '[') return parseArray();
    if (c === '"') return parseString();
    const literal = /^(?:true|false|null)/.exec(text.slice(i, i + 5));
    if (literal) {
      i += literal[0].length;
      return literal[0] === 'true' ? true : literal[0] === 'false' ? false : null;
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (number && (c === '-' || (c !== undefined && c >= '0' && c <= '9'))) {
      i += number[0].length;
      if (/[\w.]/.test(text[i] ?? '')) fail(`invalid number ${JSON.stringify(number[0] + (text[i] ?? ''))}`, i);
      return Number(number[0]);
    }
    if (c === "'") return fail('strings must use double quotes (")');
    return fail(`expected a value, found ${describe(i)}`);
  };

  const parseObject = (): Record<string, unknown> => {
    const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    i++;
    skipSpace();
    if (text[i] === '}') {
      i++;
      return obj;
    }
    for (;;) {
      skipSpace();
      if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before }' : `expected a key in double quotes, found ${describe(i)}`);
      const keyStart = i;
      const name = parseString();
      if (Object.hasOwn(obj, name)) {
        path.push(name);
        fail(`key "${name}" appears twice`, keyStart);
      }
      path.push(name);
      positions.set(key(path), keyStart);
      skipSpace();
      if (text[i] !== ':') fail(`expected ":" after key "${name}", found ${describe(i)}`);
      i++;
      obj[name] = parseValue();
      path.pop();
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return obj;
      }
      fail(`expected "," or "}" after the value of "${name}", found ${describe(i)}`);
    }
  };

  const parseArray = (): unknown[] => {
    const arr: unknown[] = [];
    i++;
    skipSpace();
    if (text[i] === ']') {
      i++;
      return arr;
    }
    for (;;) {
      skipSpace();
      if (text[i] === ']') fail('trailing comma before ]');
      path.push(arr.length);
      arr.push(parseValue());
      path.pop();
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return arr;
      }
      fail(`expected "," or "]" after an array item, found ${describe(i)}`);
    }
  };

  // A UTF-8 byte order mark is what some editors add; it is not part of the document.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  skipSpace();
  if (i >= text.length) fail('the file is empty (expected a JSON object)');
  const value = parseValue();
  skipSpace();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON document`);
  return {
    value,
    locate(p: JsonPath): SourcePosition | undefined {
      // The closest enclosing value that exists in the text (a missing key is reported at its parent).
      for (let n = p.length; n >= 0; n--) {
        const offset = positions.get(key(p.slice(0, n)));
        if (offset !== undefined) return positionOf(offset);
      }
      return undefined;
    },
  };
}
