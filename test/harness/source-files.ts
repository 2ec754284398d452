/**
 * The project's own TypeScript sources, for the tests that keep a rule in one
 * place (units-one-place, real-path-one-place): each reads every file of src/.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/ of this checkout (the tests run from dist/test/...). */
export const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Every .ts file under `dir`, depth first. */
export function* sources(dir: string = SRC): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith('.ts')) yield file;
  }
}
