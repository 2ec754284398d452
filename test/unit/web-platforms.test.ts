/**
 * The status page's server where the platforms differ: a port Windows keeps
 * for itself (an excluded port range: Hyper-V, WSL, Docker) answers EACCES
 * there, and is passed over like a port another program holds; elsewhere
 * EACCES is a real refusal (a privileged port, a security module) and stops.
 * A real second listener on the same port, refused by the system, is proven
 * here and under Wine by node.exe (test/system/windows-lane.test.ts).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { portTaken } from '../../src/web/server.js';

const err = (code: string): Error => Object.assign(new Error(code), { code });

test('EADDRINUSE is a taken port everywhere; EACCES only on Windows (its reserved ranges)', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) assert.equal(portTaken(err('EADDRINUSE'), platform), true, platform);
  assert.equal(portTaken(err('EACCES'), 'win32'), true);
  assert.equal(portTaken(err('EACCES'), 'linux'), false);
  assert.equal(portTaken(err('EACCES'), 'darwin'), false);
  assert.equal(portTaken(err('EADDRNOTAVAIL'), 'win32'), false, 'an address not of this machine is no taken port');
});

test('a second listener on the port of the first is refused with EADDRINUSE, as the page expects', async (t) => {
  const first = http.createServer();
  await new Promise<void>((resolve) => first.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve));
  t.after(() => first.close());
  const second = http.createServer();
  const refused = await new Promise<unknown>((resolve) => {
    second.once('error', resolve);
    second.listen({ host: '127.0.0.1', port: (first.address() as AddressInfo).port, exclusive: true }, () => resolve(undefined));
  });
  second.close();
  assert.equal(portTaken(refused), true);
});
