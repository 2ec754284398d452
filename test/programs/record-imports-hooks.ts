/** Module hooks for record-imports.ts: each resolved URL, one a line. */
import { appendFileSync } from 'node:fs';

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.SYNKER_TEST_IMPORTS_FILE!, `${resolved.url}\n`);
  return resolved;
}
