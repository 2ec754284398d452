/**
 * The answer shapes of docs/api.md, read from the page itself: each
 * "```shape Name" block lists a shape's fields, one a line (`name type`,
 * `name?` when it may be absent), or holds one type (an alias). check()
 * returns what an answer gets wrong against a shape: a missing field, a
 * field of another type, a field the doc does not list. So the doc and the
 * agent cannot drift apart without a test failing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const API_DOC = fileURLToPath(new URL('../../../docs/api.md', import.meta.url));

type Shape = { kind: 'object'; fields: Map<string, { optional: boolean; type: string }> } | { kind: 'alias'; type: string };

export class ApiShapes {
  readonly shapes = new Map<string, Shape>();
  /** Shapes an answer was checked against (directly or inside another). */
  readonly used = new Set<string>();

  constructor(markdown: string = readFileSync(API_DOC, 'utf8')) {
    const blocks = markdown.matchAll(/^```shape (\w+)\n([\s\S]*?)^```$/gm);
    for (const [, name, body] of blocks) {
      const lines = body!.split('\n').filter((l) => l.trim() !== '');
      if (this.shapes.has(name!)) throw new Error(`docs/api.md: shape ${name} is defined twice`);
      if (lines.length === 1 && !/^\w+\??\s/.test(lines[0]!)) {
        this.shapes.set(name!, { kind: 'alias', type: lines[0]!.trim() });
        continue;
      }
      const fields = new Map<string, { optional: boolean; type: string }>();
      for (const line of lines) {
        const m = /^(\w+)(\?)?\s+(\S+)$/.exec(line.trim());
        if (m === null) throw new Error(`docs/api.md: shape ${name}: cannot read the line ${JSON.stringify(line)}`);
        fields.set(m[1]!, { optional: m[2] === '?', type: m[3]! });
      }
      this.shapes.set(name!, { kind: 'object', fields });
    }
    // Every type named anywhere is a known one.
    for (const [name, shape] of this.shapes) {
      const types = shape.kind === 'alias' ? [shape.type] : [...shape.fields.values()].map((f) => f.type);
      for (const t of types)
        for (const term of splitUnion(t)) {
          const base = term.endsWith('[]') ? term.slice(0, -2) : term;
          if (!PRIMITIVES.has(base) && !/^"[^"]*"$/.test(base) && base !== '1' && base !== 'true' && !this.shapes.has(base))
            throw new Error(`docs/api.md: shape ${name} names an unknown type ${base}`);
        }
    }
  }

  /** What `value` gets wrong against the shape `name` ([] when it fits). */
  check(value: unknown, name: string): string[] {
    if (!this.shapes.has(name)) throw new Error(`docs/api.md has no shape ${name}`);
    const problems: string[] = [];
    this.checkType(value, name, name, problems);
    return problems;
  }

  private checkType(value: unknown, type: string, at: string, problems: string[]): void {
    const terms = splitUnion(type);
    for (const term of terms) {
      const trial: string[] = [];
      this.checkTerm(value, term, at, trial);
      if (trial.length === 0) return;
      if (terms.length === 1) {
        problems.push(...trial);
        return;
      }
    }
    problems.push(`${at}: ${JSON.stringify(value)?.slice(0, 200)} is none of ${type}`);
  }

  private checkTerm(value: unknown, term: string, at: string, problems: string[]): void {
    if (term.endsWith('[]')) {
      if (!Array.isArray(value)) {
        problems.push(`${at}: not a list`);
        return;
      }
      for (const [i, v] of value.entries()) this.checkType(v, term.slice(0, -2), `${at}[${i}]`, problems);
      return;
    }
    const fail = (what: string): void => void problems.push(`${at}: ${JSON.stringify(value)?.slice(0, 200)} is not ${what}`);
    switch (term) {
      case 'string':
        if (typeof value !== 'string') fail('a string');
        return;
      case 'time':
        if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) || Number.isNaN(Date.parse(value)))
          fail('an ISO time in UTC');
        return;
      case 'count':
        if (!Number.isSafeInteger(value) || (value as number) < 0) fail('a count');
        return;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
        return;
      case 'boolean':
        if (typeof value !== 'boolean') fail('a boolean');
        return;
      case 'null':
        if (value !== null) fail('null');
        return;
      case '1':
        if (value !== 1) fail('1');
        return;
      case 'true':
        if (value !== true) fail('true');
        return;
    }
    if (/^"[^"]*"$/.test(term)) {
      if (value !== term.slice(1, -1)) fail(term);
      return;
    }
    const shape = this.shapes.get(term)!;
    this.used.add(term);
    if (shape.kind === 'alias') {
      this.checkType(value, shape.type, at, problems);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(`an object (${term})`);
      return;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) if (!shape.fields.has(key)) problems.push(`${at}.${key}: not in docs/api.md's shape ${term}`);
    for (const [key, field] of shape.fields) {
      if (!(key in obj)) {
        if (!field.optional) problems.push(`${at}.${key}: missing (${term})`);
        continue;
      }
      this.checkType(obj[key], field.type, `${at}.${key}`, problems);
    }
  }
}

const PRIMITIVES = new Set(['string', 'time', 'count', 'number', 'boolean', 'null']);

/** `A|"x|y"|B[]` into its terms (a `|` inside quotes is part of a literal). */
function splitUnion(type: string): string[] {
  return type.match(/"[^"]*"(?:\[\])?|[^|]+/g) ?? [];
}
