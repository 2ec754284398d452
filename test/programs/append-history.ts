/**
 * Test helper process for test/integration/history.test.ts:
 *   append-history.js DATA_DIR FOLDER_ID TAG COUNT
 * waits for a line on stdin (so two of them start appending together), then
 * appends COUNT records to the folder's history, each with durationMs = its
 * number and by = TAG, and prints `done`.
 */
import { once } from 'node:events';
import { appendHistory } from '../../src/schedule/history.js';
import type { VerifiedBy } from '../../src/schedule/state.js';

const [dataDir, folderId, tag, count] = process.argv.slice(2) as [string, string, VerifiedBy, string];
process.stdout.write('ready\n');
await once(process.stdin, 'data');
for (let i = 0; i < Number(count); i++) {
  await appendHistory(dataDir, folderId, {
    at: new Date().toISOString(),
    status: 'differences',
    differences: i,
    bytesMissing: i * 10,
    by: tag,
    durationMs: i,
  });
}
process.stdout.write('done\n');
process.exit(0);
