/**
 * The floor plan (docs/architecture.md) stays true: every folder of src/ has
 * its place in the one layer order (.dependency-cruiser.cjs, which
 * `npm run lint` enforces on every import), its README says the same order,
 * the architecture page lists the same folders in the same order, and a file
 * over 300 lines says at its top why it is that long.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = path.join(ROOT, 'src');
const { LAYERS } = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as { LAYERS: string[] };
const folders = readdirSync(SRC, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

test('every folder of src/ has a place in the layer order, and nothing else is in src/', () => {
  assert.ok(Array.isArray(LAYERS) && LAYERS.length > 0, 'LAYERS is exported by .dependency-cruiser.cjs');
  assert.deepEqual(folders, [...LAYERS].sort());
  const loose = readdirSync(SRC, { withFileTypes: true }).filter((e) => !e.isDirectory());
  assert.deepEqual(
    loose.map((e) => e.name),
    [],
    'every file of src/ lives in a folder',
  );
});

test("every folder's README says what it owns and the same import rule as the layer order", () => {
  const names = (line: string | undefined): string[] => [...(line ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1] ?? '');
  LAYERS.forEach((name, i) => {
    const readme = readFileSync(path.join(SRC, name, 'README.md'), 'utf8');
    assert.match(readme, new RegExp(`^# src/${name}\\n\\n\\S`), `src/${name}/README.md opens with what the folder owns`);
    const lines = readme.split('\n');
    assert.deepEqual(names(lines.find((l) => l.startsWith('**May import:**'))), LAYERS.slice(0, i), `src/${name}/README.md: May import`);
    const mustNot = lines.find((l) => l.startsWith('**Must not import:**'))?.split('**Not its job:**')[0];
    assert.deepEqual(names(mustNot), LAYERS.slice(i + 1), `src/${name}/README.md: Must not import`);
  });
});

test('docs/architecture.md lists the folders in the layer order', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| (\d+) \| `([a-z]+)` \|/gm)].map((m) => m[2]);
  assert.deepEqual(rows, LAYERS);
});

test('a source file over 300 lines says at its top why it is that long', () => {
  const long: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        const lines = text.split('\n').length;
        if (lines > 300 && !/^[\s\S]{0,3000}?Longer than 300 lines: \S/.test(text)) long.push(`${path.relative(ROOT, p)} (${lines} lines)`);
      }
    }
  };
  walk(SRC);
  assert.deepEqual(long, [], 'split these, or say why not in their header ("Longer than 300 lines: <reason>")');
});
