/**
 * `backup-verdict` (type 11) and its ack (12): what a backup tells its
 * source after a check. The one decoder checks every field against its
 * limit, so a source keeps nothing it was not meant to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import {
  LIMITS,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeFrame,
  encodeMessage,
  type BackupVerdictMessage,
} from '../../src/protocol/index.js';

const packr = new Packr({ useRecords: false });

const VERDICT: BackupVerdictMessage = {
  kind: 'backupVerdict',
  req: 7,
  folder: 'photos',
  at: 1_765_100_000_000,
  status: 'differences',
  summary: '12 files missing (340 MiB)',
  differences: 12,
  bytesMissing: 356_515_840,
  by: 'scheduled-check',
};

function body(): Record<string, unknown> {
  const { kind: _kind, ...rest } = VERDICT;
  return { ...rest };
}

function refused(fields: Record<string, unknown>): ProtocolError {
  try {
    decodeFrame(packr.pack([PROTOCOL_VERSION, MESSAGE_TYPES.backupVerdict, fields]));
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    return err;
  }
  assert.fail(`accepted: ${JSON.stringify(fields)}`);
}

test('backup-verdict and its ack survive encode then decode, optional fields and all', () => {
  assert.equal(MESSAGE_TYPES.backupVerdict, 11, 'the next free type after progress (10)');
  assert.deepEqual(decodeFrame(encodeMessage(VERDICT)), VERDICT);
  const sync: BackupVerdictMessage = { ...VERDICT, status: 'complete', differences: 0, bytesMissing: 0, fixed: 3, by: 'manual-sync' };
  assert.deepEqual(decodeFrame(encodeMessage(sync)), sync);
  const failed: BackupVerdictMessage = {
    kind: 'backupVerdict',
    req: 1,
    folder: 'photos',
    at: 0,
    status: 'error',
    summary: 'cannot read the backup',
    by: 'manual-check',
    errorCode: 'E_SCAN_FAILED',
  };
  assert.deepEqual(decodeFrame(encodeMessage(failed)), failed);
  assert.deepEqual(decodeFrame(encodeMessage({ kind: 'backupVerdictAck', req: 7 })), { kind: 'backupVerdictAck', req: 7 });
});

test('backup-verdict fields are checked against their limits, with the documented codes', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['status outside the three', { status: 'fine' }, 'E_MALFORMED', /"status" must be "complete", "differences" or "error"/],
    ['by outside the four', { by: 'someone' }, 'E_MALFORMED', /"by" must be "scheduled-check"/],
    ['summary over its cap', { summary: 'x'.repeat(LIMITS.verdictSummaryBytes + 1) }, 'E_LIMIT', /"summary" is longer than 1024 bytes/],
    ['an empty summary', { summary: '' }, 'E_MALFORMED', /"summary" is empty/],
    ['a summary of two lines', { summary: 'complete\nerror: forged' }, 'E_MALFORMED', /"summary" must be one line/],
    ['a summary with an escape sequence', { summary: 'ok\x1b[2J' }, 'E_MALFORMED', /"summary" must be one line/],
    ['at past 2100', { at: LIMITS.maxVerdictAt + 1 }, 'E_LIMIT', /"at" is .* more than the limit/],
    ['a negative at', { at: -1 }, 'E_MALFORMED', /"at" must be a non-negative integer/],
    ['at as text', { at: '2026-12-07' }, 'E_MALFORMED', /"at" must be a non-negative integer/],
    ['too many differences', { differences: LIMITS.manifestEntries + 1 }, 'E_LIMIT', /"differences"/],
    ['negative bytes', { bytesMissing: -5 }, 'E_MALFORMED', /"bytesMissing"/],
    ['complete with differences', { status: 'complete', differences: 2 }, 'E_MALFORMED', /"complete" with 2 differences/],
    ['an error code on a verdict that is no error', { errorCode: 'E_X' }, 'E_MALFORMED', /"errorCode" on a verdict that is not an error/],
    ['an error code that is no code', { status: 'error', errorCode: 'rm -rf' }, 'E_MALFORMED', /"errorCode" must be a code/],
    ['a folder ID with a control character', { folder: 'ph\x07otos' }, 'E_MALFORMED', /"folder" must be a folder ID/],
    ['a folder ID over its cap', { folder: 'f'.repeat(LIMITS.folderIdBytes + 1) }, 'E_LIMIT', /"folder" is longer/],
    ['no folder', { folder: undefined }, 'E_MALFORMED', /"folder" is missing/],
    ['req over uint32', { req: LIMITS.maxReq + 1 }, 'E_LIMIT', /"req"/],
  ];
  for (const [what, change, code, words] of cases) {
    const fields = { ...body(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete fields[k];
    const err = refused(fields);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    assert.match(err.message, words, what);
  }
  // A device field is no part of the message: which backup speaks is the session's pinned device.
  const withDevice = decodeFrame(packr.pack([PROTOCOL_VERSION, MESSAGE_TYPES.backupVerdict, { ...body(), deviceId: 'B'.repeat(56) }]));
  assert.equal('deviceId' in withDevice, false);
  // The summary at exactly its cap is accepted.
  const atCap = decodeFrame(
    packr.pack([PROTOCOL_VERSION, MESSAGE_TYPES.backupVerdict, { ...body(), summary: 'x'.repeat(LIMITS.verdictSummaryBytes) }]),
  );
  assert.equal((atCap as BackupVerdictMessage).summary.length, LIMITS.verdictSummaryBytes);
});
