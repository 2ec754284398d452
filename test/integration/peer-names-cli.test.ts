/**
 * Names a device chose for itself reach `synker peers`, `synker trust` and
 * `synker trusted` escaped (issue #19, item 11): a right-to-left override or
 * a C1 control in a name announced to this machine's agent is shown as a
 * `\u{...}` escape, never raw, and is not kept as the device's name.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { formatDeviceId } from '../../src/identity/device-id.js';
import { createIdentity } from '../../src/identity/identity.js';
import { AgentState } from '../../src/state/agent-state.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

/** Raw C0, DEL, C1 and bidirectional overrides. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('peers and trust show a hostile announced name escaped, and trust does not keep it', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const stranger = await createIdentity('stranger');
  const state = await AgentState.open(path.join(home, 'synker', 'data'));
  // What the agent records from a hello: C0 controls are already replaced, a bidi override and a C1 CSI are not.
  await state.recordPairingAttempt({ deviceId: stranger.deviceId, name: 'photos\u202egpj.exe\u009b2J', address: '192.168.1.33:50211' });
  await state.close();

  const peers = await runSynker(['peers', '--no-discovery', '--timeout', '500ms'], { env });
  assert.match(peers.stdout, /photos\\u\{202e\}gpj\.exe\\u\{9b\}2J\s+/);
  assert.doesNotMatch(peers.stdout + peers.stderr, RAW, JSON.stringify(peers.stdout));

  const trust = await runSynker(['trust', stranger.deviceId], { env });
  assert.equal(trust.code, 0, trust.stderr);
  assert.equal(trust.stdout, `trusted ${formatDeviceId(stranger.deviceId)}\n`);
  assert.match(
    trust.stderr,
    /note: the name it announced was not kept: the name photos\\u\{202e\}gpj\.exe\\u\{9b\}2J holds control or bidirectional-override characters/,
  );
  assert.doesNotMatch(trust.stdout + trust.stderr, RAW, JSON.stringify(trust.stderr));

  // A name given by the user is the user's to choose; it is still shown escaped.
  const named = await runSynker(['trust', stranger.deviceId, '--name', 'nas\u202e'], { env });
  assert.equal(named.code, 0, named.stderr);
  assert.equal(named.stdout, `already trusted: nas\\u{202e} ${formatDeviceId(stranger.deviceId)} (renamed: no name -> "nas\\u{202e}")\n`);
  const trusted = await runSynker(['trusted'], { env });
  assert.match(trusted.stdout, /nas\\u\{202e\}/);
  assert.doesNotMatch(trusted.stdout, RAW);
  const untrust = await runSynker(['untrust', stranger.deviceId], { env });
  assert.match(untrust.stdout, /^untrusted nas\\u\{202e\} /);
  assert.doesNotMatch(untrust.stdout, RAW);
});
