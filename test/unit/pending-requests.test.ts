/**
 * Requests waiting for their answer (src/peer/pending-requests.ts): an answer
 * resolves one, the peer's error rejects it with its code, the deadline gives
 * it up with its own error, a close rejects all and every later one, and an
 * answer that comes too late is ignored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SynkerError } from '../../src/base/errors.js';
import { PeerError } from '../../src/peer/errors.js';
import { PendingRequests } from '../../src/peer/pending-requests.js';

function numbered(): { nextReq: () => number; sent: number[] } {
  let next = 7;
  return { nextReq: () => next++, sent: [] };
}

const stalled = (what: string) => () => new PeerError('E_PEER_STALLED', `${what} did not answer`);

test('an answer resolves its own request, by number, and the next one gets a new number', async () => {
  const { nextReq, sent } = numbered();
  const pending = new PendingRequests<string>(nextReq, 60_000);
  const first = pending.ask((req) => sent.push(req), stalled('first'));
  const second = pending.ask((req) => sent.push(req), stalled('second'));
  assert.deepEqual(sent, [7, 8]);
  assert.ok(pending.owns(7) && pending.owns(8));
  pending.onAnswer(8, 'b');
  pending.onAnswer(7, 'a');
  assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  assert.ok(!pending.owns(7) && !pending.owns(8), 'an answered request is no longer waiting');
});

test("the peer's error rejects that request only, as a remote PeerError with its code and hint", async () => {
  const { nextReq, sent } = numbered();
  const pending = new PendingRequests<string>(nextReq, 60_000);
  const refused = pending.ask((req) => sent.push(req), stalled('refused'));
  const kept = pending.ask((req) => sent.push(req), stalled('kept'));
  pending.onError(7, 'E_FOLDER_NOT_FOUND', 'no folder "photos" here', 'Share it there first.');
  await assert.rejects(refused, (error: unknown) => {
    assert.ok(error instanceof PeerError);
    assert.equal(error.code, 'E_FOLDER_NOT_FOUND');
    assert.equal(error.message, 'no folder "photos" here');
    assert.equal(error.hint, 'Share it there first.');
    assert.equal(error.remote, true);
    return true;
  });
  assert.ok(pending.owns(8));
  pending.onAnswer(8, 'still fine');
  assert.equal(await kept, 'still fine');
});

test('past its deadline a request is given up with its own error, handed on after; a late answer is ignored', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { nextReq, sent } = numbered();
  const pending = new PendingRequests<string>(nextReq, 5_000);
  const handedOn: SynkerError[] = [];
  const slow = pending.ask(
    (req) => sent.push(req),
    stalled('the slow one'),
    (error) => handedOn.push(error),
  );
  const settled = slow.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  t.mock.timers.tick(4_999);
  assert.ok(pending.owns(7), 'still waiting just before the deadline');
  assert.equal(handedOn.length, 0);
  t.mock.timers.tick(1);
  const error = await settled;
  assert.ok(error instanceof PeerError);
  assert.equal(error.code, 'E_PEER_STALLED');
  assert.equal(error.message, 'the slow one did not answer');
  assert.deepEqual(handedOn, [error], 'the same error is handed on, once');
  assert.ok(!pending.owns(7));
  // The answer (or an error) that comes after it was given up on changes nothing and throws nothing.
  pending.onAnswer(7, 'too late');
  pending.onError(7, 'E_INTERNAL', 'too late', undefined);
  assert.equal(await settled, error);
});

test('an answer in time clears the deadline: nothing is given up or handed on later', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { nextReq } = numbered();
  const pending = new PendingRequests<string>(nextReq, 5_000);
  const handedOn: SynkerError[] = [];
  const quick = pending.ask(
    () => {},
    stalled('quick'),
    (error) => handedOn.push(error),
  );
  pending.onAnswer(7, 'here');
  assert.equal(await quick, 'here');
  t.mock.timers.tick(60_000);
  assert.deepEqual(handedOn, []);
  // A second answer or error for it is ignored.
  pending.onError(7, 'E_INTERNAL', 'again', undefined);
  pending.onAnswer(7, 'again');
});

test('a close rejects every waiting request with its error, and every later one before it is sent', async () => {
  const { nextReq, sent } = numbered();
  const pending = new PendingRequests<string>(nextReq, 60_000);
  const a = pending.ask((req) => sent.push(req), stalled('a'));
  const b = pending.ask((req) => sent.push(req), stalled('b'));
  const closed = new SynkerError('E_SESSION_CLOSED', 'the session with backup is closed');
  pending.onClose(closed);
  await assert.rejects(a, (error) => error === closed);
  await assert.rejects(b, (error) => error === closed);
  assert.ok(!pending.owns(7) && !pending.owns(8));
  await assert.rejects(
    pending.ask((req) => sent.push(req), stalled('after')),
    (error) => error === closed,
  );
  assert.deepEqual(sent, [7, 8], 'nothing is sent after the close');
  pending.onAnswer(7, 'late');
});
