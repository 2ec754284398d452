/**
 * doctor's multicast findings name what the operating system itself does to
 * mDNS: macOS 15's Local Network permission (EHOSTUNREACH on every send, or
 * silence) and Windows Defender Firewall; Linux gets neither hint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multicastFindings, type InterfaceResult } from '../../src/doctor/multicast-check.js';

const iface = (over: Partial<InterfaceResult>): InterfaceResult => ({
  name: 'en0',
  address: '192.168.1.20',
  heardSelf: true,
  others: [],
  ...over,
});

test('macOS: EHOSTUNREACH on send points at the Local Network permission, not at another program', () => {
  const [finding] = multicastFindings([iface({ heardSelf: false, error: 'send EHOSTUNREACH 224.0.0.251:5353' })], 3000, 'darwin');
  assert.equal(finding?.status, 'fail');
  assert.match(
    finding?.fix ?? '',
    /^macOS refused the multicast send\. On macOS 15 or later, allow Local Network access: System Settings > Privacy & Security > Local Network/,
  );
  assert.doesNotMatch(finding?.fix ?? '', /Another program/);
});

test('macOS and Windows: silence names the permission or the firewall; Linux keeps its hint alone', () => {
  const silent = [iface({})];
  assert.match(multicastFindings(silent, 3000, 'darwin')[0]?.fix ?? '', /Local Network access/);
  assert.match(multicastFindings(silent, 3000, 'win32')[0]?.fix ?? '', /Windows Defender Firewall/);
  const linux = multicastFindings(silent, 3000, 'linux')[0]?.fix ?? '';
  assert.doesNotMatch(linux, /macOS|Windows/);
  assert.match(linux, /Wi-Fi client isolation/);
  const deaf = multicastFindings([iface({ heardSelf: false })], 3000, 'darwin')[0];
  assert.equal(deaf?.status, 'fail');
  assert.match(deaf?.fix ?? '', /ip route get 224\.0\.0\.251.*Local Network access/);
});

test('an interface that hears other hosts is fine on every platform, with no hint', () => {
  for (const platform of ['darwin', 'win32', 'linux'] as const) {
    const [finding] = multicastFindings([iface({ others: ['192.168.1.30'] })], 3000, platform);
    assert.equal(finding?.status, 'ok');
  }
});
