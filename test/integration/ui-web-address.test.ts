/**
 * `synker ui` when web.json (where the agent keeps its page's address) is
 * damaged or deleted while the agent serves its page: the file is named as
 * the cause, never "the agent runs without its status page". A real agent,
 * the real CLI, the real file.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startCliAgent } from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('synker ui names a damaged or missing web.json, and an agent without its page as such', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const webJson = path.join(home, 'synker', 'data', 'web.json');
  const agent = await startCliAgent(t, env, [], ['--no-discovery', '--web-port', '0']);
  // web.json is written once the page listens, which the agent then logs.
  await new Promise<void>((resolve) => {
    const seen = (): void => {
      if (!agent.log().includes('status page: http')) return;
      agent.process.stderr.off('data', seen);
      resolve();
    };
    agent.process.stderr.on('data', seen);
    seen();
  });
  const ok = await runSynker(['ui', '--no-open'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const pid = agent.process.pid;

  await writeFile(webJson, '{"url":1}\n');
  const damaged = await runSynker(['ui', '--no-open'], { env });
  assert.equal(damaged.code, 2);
  assert.equal(damaged.stdout, '');
  assert.match(
    damaged.stderr,
    new RegExp(
      `error: the synker agent of this home \\(process ${pid}\\) runs, but .*web\\.json, where its status page's address is kept, is damaged\\n`,
    ),
  );
  assert.match(damaged.stderr, /\nhint: Restart the agent: its page writes web\.json again as it starts\.\n/);
  assert.doesNotMatch(damaged.stderr, /runs without its status page|--no-web/, 'not a wrong cause');
  await writeFile(webJson, 'not json');
  assert.match((await runSynker(['ui', '--no-open'], { env })).stderr, /web\.json, where its status page's address is kept, is damaged/);
  // A folder where the file should be is damage too, not an internal error (EISDIR).
  await rm(webJson);
  await mkdir(webJson);
  const folder = await runSynker(['ui', '--no-open'], { env });
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(folder.stderr, /web\.json, where its status page's address is kept, is damaged\n/);
  assert.doesNotMatch(folder.stderr, /internal error/);
  await rm(webJson, { recursive: true });
  // An address that is not the agent's own page (the file edited): damaged, and the token goes nowhere.
  const real = { url: '', host: '127.0.0.1', port: 0, pid };
  real.port = Number(new URL(ok.stdout.trim()).port);
  for (const url of ['http://evil.example.com/', 'file:///etc/passwd', `http://127.0.0.1:${real.port}/\u001b[2J`]) {
    await writeFile(webJson, `${JSON.stringify({ ...real, url })}\n`);
    const edited = await runSynker(['ui', '--no-open'], { env });
    assert.equal(edited.code, 2, `${url}: ${edited.stdout}`);
    assert.equal(edited.stdout, '', `${url}: no address printed, no token`);
    assert.match(edited.stderr, /web\.json, where its status page's address is kept, is damaged\n/);
  }
  for (const host of ['localhost', 'evil.example.com']) {
    await writeFile(webJson, `${JSON.stringify({ ...real, host, url: `http://${host}:${real.port}/` })}\n`);
    assert.match((await runSynker(['ui', '--no-open'], { env })).stderr, /is damaged\n/, host);
  }
  await writeFile(webJson, 'not json');

  await rm(webJson);
  const missing = await runSynker(['ui', '--no-open'], { env });
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /web\.json, where its status page's address is kept, is missing: the agent runs without its page, or the file was deleted\n/,
  );
  assert.match(
    missing.stderr,
    /\nhint: Restart the agent: its page writes web\.json again as it starts; if this comes back, its log says why/,
  );
  // status --open says the same.
  assert.match((await runSynker(['status', '--open'], { env })).stderr, /web\.json, where its status page's address is kept, is missing/);

  // The address of an agent that is gone, while another runs: that one never wrote its own, so it has no page.
  await writeFile(webJson, `${JSON.stringify({ url: 'http://127.0.0.1:1/', host: '127.0.0.1', port: 1, pid: 2 ** 22 + 1 })}\n`);
  const gone = await runSynker(['ui', '--no-open'], { env });
  assert.match(gone.stderr, new RegExp(`error: the synker agent of this home \\(process ${pid}\\) runs without its status page\\n`));
});
