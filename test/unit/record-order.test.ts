/**
 * The history line of a run is written last: the status page's live update
 * hears of a run from it (history-feed.ts) and at once reads the folder's
 * verdict from the schedule state, so the run's `lastRun` (and a
 * verification by hand, a source's record of its backup: `before`) must be on
 * disk first. The page showed "complete" for ever after a failed check by
 * hand when the line came first (a race the Chromium test lost under load).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { HistoryFeed } from '../../src/schedule/history-feed.js';
import { recordRun } from '../../src/schedule/record.js';
import type { CheckResultSummary } from '../../src/schedule/state.js';
import { tempDir } from '../harness/tmp.js';

const failed: CheckResultSummary = {
  status: 'error',
  at: '2026-12-08T01:00:00.000Z',
  summary: 'source unreachable',
  by: 'manual-check',
  error: { code: 'E_NO_SOURCE', message: 'source unreachable' },
};

test('when the history line is heard, the run is already in the schedule state, and what `before` writes too', async (t) => {
  const dataDir = await tempDir(t);
  const feed = await HistoryFeed.start(dataDir, { pollMs: 60_000 });
  t.after(() => feed.close());
  const seenAtLine: string[] = [];
  const heard = new Promise<void>((resolve) =>
    feed.subscribe(() => {
      // What a page asking now would read.
      void readFile(path.join(dataDir, 'schedule.json'), 'utf8').then(
        (text) => {
          const folder = (JSON.parse(text) as { folders: Record<string, { lastRun?: CheckResultSummary }> }).folders.docs;
          seenAtLine.push(folder?.lastRun?.status ?? 'no lastRun');
          resolve();
        },
        () => {
          seenAtLine.push('no schedule.json');
          resolve();
        },
      );
    }),
  );
  let beforeDone = false;
  const before = new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => {
    beforeDone = true;
  });
  let beforeDoneAtLine: boolean | undefined;
  feed.subscribe(() => {
    beforeDoneAtLine ??= beforeDone;
  });
  await recordRun(dataDir, { folderId: 'docs', summary: failed }, Date.parse(failed.at) + 1000, { before });
  await heard;
  assert.deepEqual(seenAtLine, ['error'], 'the failed run was in schedule.json when its history line was heard');
  assert.equal(beforeDoneAtLine, true, "the line waited for the run's other write");
});
