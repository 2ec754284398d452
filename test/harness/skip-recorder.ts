/**
 * A node:test reporter that writes one JSON line per skipped test: its file, its name and the
 * reason it gave (null for a bare skip). test/harness/run-tests.ts reads these lines and holds
 * them against test/skips.json, so a skip nobody listed cannot turn a run green.
 */
interface TestEventData {
  name: string;
  file?: string;
  skip?: string | boolean;
}

export default async function* skipRecorder(source: AsyncIterable<{ type: string; data: TestEventData }>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    yield `${JSON.stringify({ file: file ?? null, name, reason: typeof skip === 'string' ? skip : null })}\n`;
  }
}
