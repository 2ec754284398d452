/**
 * Test helper process: `hold-folder-lock.js DATA_DIR FOLDER_ID` takes the
 * folder lock, prints `locked`, and keeps it until killed. If the lock is
 * busy it prints `busy <message>` and exits 3.
 */
import { AgentState } from '../../src/state/agent-state.js';
import { LockBusyError } from '../../src/state/lock.js';

const [dataDir, folderId] = process.argv.slice(2) as [string, string];
const state = await AgentState.open(dataDir);
try {
  await state.acquireFolderLock(folderId, { purpose: 'check' });
  process.stdout.write('locked\n');
  setInterval(() => undefined, 60_000);
} catch (err) {
  if (!(err instanceof LockBusyError)) throw err;
  process.stdout.write(`busy ${err.message}\n`);
  await state.close();
  process.exitCode = 3;
}
