/**
 * Test helper process for test/integration/history.test.ts:
 *   append-history.js DATA_DIR FOLDER_ID TAG COUNT
 * waits for a line on stdin (so two of them start appending together), then
 * appends COUNT records to the folder's history, record i ending on day i
 * after 2026-01-01 (by this process's clock as given to appendHistory, so
 * records age out and prunes run while the other process appends), with
 * durationMs = i and by = TAG, and prints `done`.
 */
import { once } from 'node:events';
import { appendHistory } from '../../src/schedule/history.js';
import type { VerifiedBy } from '../../src/schedule/state.js';

const [dataDir, folderId, tag, count] = process.argv.slice(2) as [string, string, VerifiedBy, string];
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const DAY = 86_400_000;
const BASE = Date.parse('2026-01-01T00:00:00Z');
for (let i = 0; i < Number(count); i++) {
  const at = BASE + i * DAY;
  await appendHistory(
    dataDir,
    folderId,
    {
      at: new Date(at).toISOString(),
      status: 'differences',
      differences: i,
      bytesMissing: i * 10,
      by: tag,
      durationMs: i,
    },
    at,
  );
}
process.stdout.write('done\n');
process.exit(0);
