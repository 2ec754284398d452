/**
 * A source that was reached and then stalled (E_PEER_STALLED: it answered
 * pings, but its scan made no progress) is a source that answered and
 * failed, not an unreachable one: no firewall hint, its own hint kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noSourceError } from '../../src/check/no-source.js';
import type { FolderConfig, SynkerConfig } from '../../src/config/types.js';
import { PeerError } from '../../src/peer/index.js';

const SOURCE = 'MFZWI3DBONSGYCYLTMRWGC43ENR5QXGZDMMFZWI3DPBONSGYYLTMRWAD';

test('a stalled source is reported as reached and failed (E_SOURCE_FAILED), with the stall hint', () => {
  const folder: FolderConfig = { id: 'pics', path: '/srv/pics', role: 'backup', shareWith: [SOURCE] };
  const config: SynkerConfig = {
    version: 1,
    name: 'nas',
    port: 7780,
    folders: [folder],
    trusted: [{ deviceId: SOURCE, name: 'laptop' }],
    peers: [],
  };
  const stalled = new PeerError(
    'E_PEER_STALLED',
    'laptop (127.0.0.1:7780) answers but has made no progress for 1 min 0 s: its scan or its disk seems stuck',
    {
      hint: "Check the other machine's disk (a failing or stuck disk, an unreachable network folder) and its agent's log, then try again.",
    },
  );
  const error = noSourceError({
    config,
    folder,
    devices: config.trusted,
    attempts: [{ device: config.trusted[0]!, address: '127.0.0.1:7780 (--peer)', via: '--peer', error: stalled }],
    notSource: [],
    searchedLan: false,
    lanProblem: undefined,
    peerAddress: '127.0.0.1:7780',
  });
  assert.equal(error.code, 'E_SOURCE_FAILED');
  assert.match(error.message, /answered but did not serve it: .*no progress for 1 min 0 s/);
  assert.doesNotMatch(error.hint ?? '', /firewall|--timeout/);
  assert.match(error.hint ?? '', /disk/);
});
