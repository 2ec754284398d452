/**
 * `synker demo` (what `npm start` runs) through the real CLI, each run in a
 * network namespace this test creates: with only loopback it must run end to
 * end and write report.eml/report.html that name the sample's differences;
 * the HTML report must show them in a real browser; with a LAN next to it,
 * nothing may be announced there; on Ctrl-C and on a failure it must leave
 * no process behind. Needs root (skipped otherwise).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { simpleParser } from 'mailparser';
import { sampleDifferences } from '../../src/demo/sample.js';
import { synkerCommand } from '../../src/demo/command.js';
import { blockMdns, DEMO_TIMEOUT_MS, demoEnv, processesIn, runDemoIn, spawnDemoIn } from '../harness/demo.js';
import { collect, netLab, netnsUnavailableReason, stopProcess, waitFor } from '../harness/netns.js';
import { ADVERTISE_FIXTURE } from '../harness/synker-bin.js';
import { tempDir } from '../harness/tmp.js';

const COUNTER = fileURLToPath(new URL('../programs/mdns-counter.js', import.meta.url));
const REPORT_PAGE = fileURLToPath(new URL('../programs/report-page.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
/** The last screenshot of the demo's report, kept after the test's temp folder is gone, for a person to look at. */
const SCREENSHOT_COPY = path.join(os.tmpdir(), 'synker-demo-report.png');

const skip = netnsUnavailableReason() ?? false;
const diff = sampleDifferences();

/** How the demo writes synker in the commands it shows, for a demo run by runDemoIn in `work` (src/demo/command.ts). */
function shownSynker(work: string): string {
  return synkerCommand({ env: demoEnv(work), cwd: work }).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('the demo runs end to end in a loopback-only namespace: report.eml/report.html name the sample differences, the backup ends complete, nothing is left running', {
  skip,
  timeout: DEMO_TIMEOUT_MS + 120_000,
}, async (t) => {
  const work = await tempDir(t, 'synker-demo-');
  const lab = await netLab(t);
  const machine = await lab.namespace('demo');
  const run = await runDemoIn(machine, work);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.deepEqual(processesIn(machine), [], 'no process of the demo is left running');

  const out = run.stdout;
  const demoDir = path.join(work, 'demo');
  assert.match(out, new RegExp(`Everything goes into ${demoDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(out, /mDNS only on the loopback interface \(lo\): nothing is announced on your network/);
  assert.match(out, /found demo-laptop \(\w{7}\) at 127\.0\.0\.1:\d+ in [\d.]+ m?s/, 'the backup found the source over mDNS on lo');
  assert.doesNotMatch(out, /note: multicast does not work/);
  const synker = shownSynker(work);
  assert.match(
    out,
    new RegExp(`\\$ ${synker} check family --interface lo --email\\n\\s+folder "family": backup INCOMPLETE: 5 differences`),
  );
  assert.match(out, new RegExp(`\\$ ${synker} sync family --interface lo --delete`));
  assert.match(out, new RegExp(`\\$ ${synker} check family --interface lo\\n\\s+folder "family": backup complete, 21 files verified`));
  assert.match(out, new RegExp(`SYNKER_HOME=\\S+ ${synker} agent --listen 127\\.0\\.0\\.1`));
  assert.match(
    out,
    /Done in [\d.]+ m?s \(sample [\d.]+ m?s, agents [\d.]+ m?s, discovery [\d.]+ m?s, check \+ e-mail [\d.]+ m?s, save report [\d.]+ m?s, sync [\d.]+ m?s, check again [\d.]+ m?s/,
  );
  assert.match(out, /To do the same on two laptops/);
  assert.match(out, /synker init --role source --folder pictures=~\/Pictures/);

  // The message as the SMTP server received it, read by an independent parser.
  const raw = await readFile(path.join(demoDir, 'report.eml'));
  const mail = await simpleParser(raw);
  assert.equal(
    mail.subject,
    // The extra file is listed in the body, not in the subject: it does not make the backup incomplete.
    `Backup of family on demo-backup: ${diff.missing.length} files missing (915 KiB), 1 file differs, 1 folder moved`,
  );
  assert.deepEqual(
    (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((a) => a?.value.map((v) => v.address)),
    ['you@example.org'],
  );
  const html = await readFile(path.join(demoDir, 'report.html'), 'utf8');
  assert.equal(html, mail.html, 'report.html is exactly the HTML part of the message that arrived');
  const text = mail.text ?? '';
  for (const body of [html, text]) {
    for (const missing of diff.missing) assert.ok(body.includes(missing), `missing photo ${missing} is listed`);
    assert.ok(body.includes(diff.edited[0]!), 'the edited document is listed');
    assert.ok(body.includes(diff.extra[0]!), 'the extra file is listed');
    assert.ok(body.includes(diff.renamedFolder.from) && body.includes(diff.renamedFolder.to), 'the renamed folder is listed as a move');
  }

  // After the sync the backup holds what the source holds, under the source's names.
  for (const missing of diff.missing) assert.ok((await stat(path.join(demoDir, 'backup', missing))).isFile(), missing);
  assert.ok((await stat(path.join(demoDir, 'backup', diff.renamedFolder.to))).isDirectory());
  assert.equal(existsSync(path.join(demoDir, 'backup', diff.renamedFolder.from)), false);
  assert.equal(existsSync(path.join(demoDir, 'backup', diff.extra[0]!)), false, 'the extra file went to .synker/versions');
  assert.equal(
    await readFile(path.join(demoDir, 'backup', diff.edited[0]!), 'utf8'),
    await readFile(path.join(demoDir, 'source', diff.edited[0]!), 'utf8'),
  );

  await t.test('report.html in headless Chromium shows the summary, and the browser loads nothing but the file', async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    const png = path.join(demoDir, 'report.png');
    // In the loopback-only namespace: even a browser that tried could reach no network.
    const page = await collect(
      machine.spawn(process.execPath, [REPORT_PAGE, path.join(demoDir, 'report.html'), png], { env: { ...process.env, HOME: work } }),
      120_000,
    );
    assert.equal(page.code, 0, page.stderr);
    const seen = JSON.parse(page.stdout) as { title: string; text: string; requested: string[]; refused: string[] };
    assert.equal(seen.title, 'Backup incomplete: 5 differences');
    assert.match(seen.text, /^Backup incomplete: 5 differences/);
    assert.match(
      seen.text,
      /The backup of family on demo-backup does not match 21 files \(4\.3 MiB\) on demo-laptop: 5 differences \(1\.8 MiB\)/,
    );
    assert.match(seen.text, /missing on backup\t3\t915 KiB/);
    assert.match(seen.text, /Total failing\t5\t1\.8 MiB/);
    assert.match(seen.text, /Trips\/Lisboa 2024 → Trips\/Lisbon 2024/);
    assert.deepEqual(seen.refused, [], 'the page asked for nothing outside its file');
    assert.ok(
      seen.requested.every((url) => url.startsWith('file:')),
      seen.requested.join(' '),
    );
    const size = (await stat(png)).size;
    assert.ok(size > 20_000, `a real screenshot (${size} bytes)`);
    await copyFile(png, SCREENSHOT_COPY);
    t.diagnostic(`screenshot of report.html: ${SCREENSHOT_COPY}`);
  });
});

test('the demo announces nothing on the LAN: an mDNS listener across a link from it hears no packet', {
  skip,
  timeout: DEMO_TIMEOUT_MS + 120_000,
}, async (t) => {
  const work = await tempDir(t, 'synker-demo-lan-');
  const lab = await netLab(t);
  const laptop = await lab.namespace('laptop');
  const lan = await lab.namespace('lan');
  // With a multicast route through the link, mDNS not restricted to lo would go out here.
  const link = await lab.link(laptop, lan, { a: '10.78.0.1/24', b: '10.78.0.2/24' });
  const listener = lan.spawn(process.execPath, [COUNTER, '10.78.0.2']);
  let heard = '';
  let ready = '';
  listener.stdout!.setEncoding('utf8').on('data', (d: string) => (heard += d));
  listener.stderr!.setEncoding('utf8').on('data', (d: string) => (ready += d));
  await waitFor('the LAN listener', () => (ready.includes('ready') ? true : undefined), 20_000);

  // The listener can fail this test: an agent advertising on the link is heard.
  const advertiser = laptop.spawn(process.execPath, [ADVERTISE_FIXTURE, '--name', 'control', '--port', '22000', '--interface', link.a]);
  await waitFor(
    'the control announcement on the LAN',
    () => (/^10\.78\.0\.1 response .*_synker\._tcp/m.test(heard) ? true : undefined),
    20_000,
  );
  await stopProcess(advertiser);
  await new Promise((r) => setTimeout(r, 500));
  heard = '';

  const run = await runDemoIn(laptop, work);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /found demo-laptop .* at 127\.0\.0\.1:\d+/, 'mDNS worked on lo meanwhile');
  // Late packets (goodbyes) would arrive within this.
  await new Promise((r) => setTimeout(r, 1000));
  await stopProcess(listener);
  assert.equal(heard, '', `mDNS packets reached the LAN:\n${heard}`);
});

test('where multicast does not work, the demo says so and uses the loopback address, and still runs to the end', {
  skip,
  timeout: DEMO_TIMEOUT_MS + 60_000,
}, async (t) => {
  const work = await tempDir(t, 'synker-demo-nomc-');
  const lab = await netLab(t);
  const machine = await lab.namespace('nomdns');
  blockMdns(machine);
  const run = await runDemoIn(machine, work);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(
    run.stdout,
    /note: multicast does not work on lo here, so mDNS did not find the source within 5 s;\n\s+the demo gives its loopback address instead \(--peer 127\.0\.0\.1:(\d+)\)/,
  );
  assert.doesNotMatch(run.stdout, /found demo-laptop/);
  const synker = shownSynker(work);
  assert.match(
    run.stdout,
    new RegExp(
      `\\$ ${synker} check family --peer 127\\.0\\.0\\.1:\\d+ --no-discovery --email\\n\\s+folder "family": backup INCOMPLETE: 5 differences`,
    ),
  );
  assert.match(run.stdout, new RegExp(`\\$ ${synker} sync family --peer 127\\.0\\.0\\.1:\\d+ --no-discovery --delete`));
  assert.match(
    run.stdout,
    new RegExp(
      `\\$ ${synker} check family --peer 127\\.0\\.0\\.1:\\d+ --no-discovery\\n\\s+folder "family": backup complete, 21 files verified`,
    ),
  );
  const mail = await simpleParser(await readFile(path.join(work, 'demo', 'report.eml')));
  assert.match(mail.subject ?? '', /^Backup of family on demo-backup: 3 files missing/);
  assert.deepEqual(processesIn(machine), [], 'no process of the demo is left running');
});

test('Ctrl-C stops the demo and everything it started; it exits 130', { skip, timeout: DEMO_TIMEOUT_MS + 60_000 }, async (t) => {
  const { machine, demo, ended } = await demoWithAgentsRunning(t, 'int');
  assert.ok(processesIn(machine).filter((p) => / agent /.test(p)).length === 2, processesIn(machine).join('\n'));
  process.kill(demo.pid!, 'SIGINT');
  const result = await ended;
  assert.equal(result.code, 130, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, /error: SIGINT: the demo stopped; its agents and mail server are stopped too/);
  assert.match(result.stderr, /hint: /);
  assert.deepEqual(processesIn(machine), [], 'no process of the demo is left running');
});

test('a demo that fails half-way (its source agent dies) says which step failed, exits 2 and leaves nothing running', {
  skip,
  timeout: DEMO_TIMEOUT_MS + 60_000,
}, async (t) => {
  const { work, machine, ended } = await demoWithAgentsRunning(t, 'fail');
  const source = processesIn(machine).find(
    (p) => / agent /.test(p) && processEnv(p).includes(`${path.join(work, 'demo', 'homes', 'source')}`),
  );
  assert.ok(source, processesIn(machine).join('\n'));
  process.kill(Number(source.split(':')[0]), 'SIGKILL');
  const result = await ended;
  assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, /error: the first check should find the sample differences \(exit 1\), but it ended with exit code 2/);
  assert.match(result.stderr, /hint: /);
  assert.deepEqual(processesIn(machine), [], 'no process of the demo is left running');
});

/** Starts the demo in a namespace of its own and returns once both its agents run (it then looks for the source). */
async function demoWithAgentsRunning(t: TestContext, name: string) {
  const work = await tempDir(t, `synker-demo-${name}-`);
  const lab = await netLab(t);
  const machine = await lab.namespace(`demo${name}`);
  const demo = spawnDemoIn(machine, work);
  const ended = collect(demo, DEMO_TIMEOUT_MS);
  let out = '';
  demo.stdout!.on('data', (d: string | Buffer) => (out += d.toString()));
  await waitFor(
    'the demo to start its agents',
    () => (out.includes('3. The backup looks for the source') ? true : undefined),
    DEMO_TIMEOUT_MS,
  );
  return { work, machine, demo, ended };
}

/** The environment of a process listed by processesIn() (the agents differ only by SYNKER_HOME). */
function processEnv(line: string): string {
  try {
    return readFileSync(`/proc/${line.split(':')[0]}/environ`, 'utf8').replace(/\0/g, '\n');
  } catch {
    return '';
  }
}
