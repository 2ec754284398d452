/**
 * The status page in a real browser (playwright-core driving Debian's
 * /usr/bin/chromium, headless) against a real backup agent on loopback: one
 * backup folder verified complete and one incomplete by real checks (and one
 * failed check); the page shows their verdicts, the history marks, the
 * differences grouped by category, hostile file names as text; it updates
 * live when a check ends (no reload), after "check now" and after the agent
 * restarts; and the browser asks nothing of another origin. Screenshots
 * are kept in the system's temp folder (named in the test's diagnostics).
 */
import assert from 'node:assert/strict';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { printablePath } from '../../src/base/printable.js';
import { writeTree } from '../harness/check-pair.js';
import { chromiumMissing, launchChromium } from '../harness/chromium.js';
import { TestSmtpServer, testSmtpSection } from '../harness/smtp.js';
import {
  addCliFolder,
  configureCliDevices,
  deviceId,
  scheduleBackupYearly,
  startCliAgent,
  startWebAgent,
  stopAgent,
  synkerOk,
} from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

/** Where the screenshots are kept after the test's temp folder is gone, for a person to look at. */
const SCREENSHOTS = os.tmpdir();
const WAIT_MS = 60_000;

/** The terminal tests' hostile names, and markup that would run if a name reached the page as HTML. */
const HOSTILE = [
  'esc\u001b[2J\u001b[31mEVIL',
  'rlo\u202Egpj.exe',
  '"><img src=x onerror=alert(1)>',
  '<script>alert(2)',
  "<svg onload=alert(3)> '&amp;",
];

const PHOTOS = { 'a.jpg': 'alpha photo', 'b.jpg': 'bravo photo' };
const DOCS: Record<string, string> = { 'report.txt': 'the report', 'notes/todo.md': '# todo', 'big.bin': 'x'.repeat(40_000) };
for (const name of HOSTILE) DOCS[name] = `hostile ${name}`;
/** A folder the backup lacks with everything in it: one item on the page (report/whole-folders.ts), its name as text. */
const WHOLE = 'album "><img src=x onerror=alert(5)>';
DOCS[`${WHOLE}/a.jpg`] = 'a';
DOCS[`${WHOLE}/b.jpg`] = 'bb';
/** What the backup of docs lacks at first: the hostile names, big.bin and the whole folder (missing on backup). */
const DOCS_ON_BACKUP = { 'report.txt': 'the report', 'notes/todo.md': '# todo' };

/** The text a person sees (laid out: a line break where the page breaks the line). */
function seen(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node: innerText is the text a person sees
  return locator.innerText();
}

/** Asks `done` again (each answer is awaited: no fixed sleep) until it says yes, for at most WAIT_MS. */
async function waitUntil(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, 'gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What the page shows of one folder's history: how many checks of each kind its marks count (one mark per day
 * and kind, its count in data-count), after asserting that no two marks of one kind sit on one day (piled up).
 */
async function marks(page: Page): Promise<Record<string, number>> {
  const all = await page
    .locator('.history svg.marks .mark')
    .evaluateAll((nodes) =>
      nodes.map((n) => [
        n.getAttribute('data-status'),
        n.getAttribute('data-count'),
        n.getAttribute('cx') ?? n.getAttribute('x') ?? n.getAttribute('d'),
      ]),
    );
  const seenDays = new Set<string>();
  const counts: Record<string, number> = {};
  for (const [status, count, where] of all) {
    assert.ok(!seenDays.has(`${status}@${where}`), `one mark per day and kind: ${JSON.stringify(all)}`);
    seenDays.add(`${status}@${where}`);
    counts[status!] = (counts[status!] ?? 0) + Number(count);
  }
  return counts;
}

test('the status page shows every folder’s verdict, the differences by category and the history, live, with hostile names as text', {
  skip: chromiumMissing(),
  timeout: 240_000,
}, async (t) => {
  const dir = await tempDir(t);
  // One runtime folder: the backup's checks find the source's agent on this machine without any network discovery.
  const devices = await configureCliDevices(dir, { sharedRuntime: true });
  const { sourceEnv, backupEnv } = devices;
  const roots = {
    photos: [path.join(dir, 'photos'), path.join(dir, 'photos-copy')],
    docs: [path.join(dir, 'docs'), path.join(dir, 'docs copy "><img src=x onerror=alert(4)>')],
  } as const;
  await writeTree(roots.photos[0], PHOTOS);
  await writeTree(roots.photos[1], PHOTOS);
  await writeTree(roots.docs[0], DOCS);
  await writeTree(roots.docs[1], DOCS_ON_BACKUP);
  for (const id of ['photos', 'docs'] as const) await addCliFolder(devices, id, roots[id][0], roots[id][1]);
  await scheduleBackupYearly(dir);
  const configFile = path.join(dir, 'nas', 'synker', 'config', 'config.json');

  let backup = await startWebAgent(t, backupEnv);
  assert.match(backup.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the page is on loopback');
  const token = (await readFile(path.join(dir, 'nas', 'synker', 'data', 'web-token'), 'utf8')).trim();

  // A check while the source is away fails: a failed mark in docs' history.
  const failed = await runSynker(['check', 'docs', '--no-discovery', '--timeout', '2s'], { env: backupEnv });
  assert.equal(failed.code, 2, failed.stdout + failed.stderr);
  const source = await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--web-port', '0']);
  const complete = await runSynker(['check', 'photos', '--no-discovery'], { env: backupEnv });
  assert.equal(complete.code, 0, complete.stdout + complete.stderr);
  const incomplete = await runSynker(['check', 'docs', '--no-discovery'], { env: backupEnv });
  assert.equal(incomplete.code, 1, incomplete.stdout + incomplete.stderr);

  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, serviceWorkers: 'block' });
  const requested: string[] = [];
  const refused: string[] = [];
  const dialogs: string[] = [];
  // Each agent's page is an origin of its own (its port): the backup's, and the source's below.
  const origins = [backup.url];
  context.on('request', (request) => requested.push(request.url()));
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (origins.some((o) => url.startsWith(o))) await route.continue();
    else {
      refused.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // The agent's CSP (no inline script or style, nothing from elsewhere): Chromium says on the console what it refused.
  const refusedByCsp: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refusedByCsp.push(message.text());
  });

  // What `synker ui` opens: the token in the fragment (sent to no server), gone from the address at once.
  const ui = await runSynker(['ui', '--no-open'], { env: backupEnv });
  assert.equal(ui.code, 0, ui.stderr);
  await page.goto(ui.stdout.trim());
  assert.ok(!page.url().includes(token), `the token is gone from the address: ${page.url()}`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });

  await t.test('the token goes to no other server on 127.0.0.1: no cookie, nothing in any request but to this page', async () => {
    // Another local program's page, on another port of the same address, that the same browser visits next.
    const seenByOther: string[] = [];
    const other = http.createServer((req, res) => {
      seenByOther.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>another local server</title><p>hello</p>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    origins.push(otherUrl); // visited on purpose
    const tab = await context.newPage();
    await tab.goto(otherUrl);
    await tab.goto(`${otherUrl}again`);
    assert.equal(await tab.evaluate('sessionStorage.length'), 0, "the page's storage is its port's only");
    await tab.close();
    assert.equal(seenByOther.length, 2, seenByOther.join('\n'));
    for (const line of seenByOther) {
      assert.ok(!line.includes(token), `the other server got the token: ${line}`);
      assert.doesNotMatch(line, /"cookie"/, `a cookie went to the other server: ${line}`);
    }
    assert.deepEqual(await context.cookies(), [], 'the page sets no cookie at all');
    // Nor was the token in any address the browser asked for (a fragment is never sent).
    for (const url of requested) assert.ok(!url.includes(token), url);
  });

  await t.test('the overview: each folder with its verdict in words, the last verified time, the next check, the outbox', async () => {
    const photos = page.locator('[data-folder="photos"]');
    const docs = page.locator('[data-folder="docs"]');
    assert.equal(await photos.locator('h2 .verdict').getAttribute('data-verdict'), 'complete');
    assert.match(await seen(photos.locator('h2')), /photos\s+complete/);
    assert.match(await seen(photos.locator('.detail')), /^verified complete \d+ seconds? ago$/);
    assert.match(await seen(photos.locator('.facts')), /next check\s+in \d+ (days|weeks)/);
    assert.equal(await docs.locator('h2 .verdict').getAttribute('data-verdict'), 'incomplete');
    assert.match(await seen(docs.locator('h2')), /docs\s+incomplete/);
    // Each badge's symbol is drawn: a character (⏱, ✓) needs a font that has it, and shows as an empty box without.
    const badges = (await page.evaluate(
      "[...document.querySelectorAll('.verdict')].map((b) => ({ text: b.textContent, drawn: b.querySelectorAll('svg.icon > *').length }))",
    )) as Array<{ text: string; drawn: number }>;
    assert.ok(badges.length >= 2);
    for (const b of badges) {
      assert.match(b.text, /^ [a-z ]+$/, `only words, no symbol that needs a font: ${JSON.stringify(b.text)}`);
      assert.ok(b.drawn > 0, `a drawn symbol: ${JSON.stringify(b)}`);
    }
    // Since when: its first check failed, the next found it incomplete: not complete since the first, never complete.
    assert.match(
      await seen(docs.locator('.detail')),
      /^8 files and 1 folder missing \(39 KiB\) \(verified \d+ seconds? ago\); not verified complete since \d.*, never complete$/,
    );
    assert.match(await seen(docs.locator('.facts')), /peer\s+laptop/);
    assert.match(await seen(page.locator('.outbox')), /Outbox: no message waiting/);
    assert.match(await seen(page.locator('h1')), /^Folders on nas$/);
    assert.equal(await page.title(), 'synker on nas: 1 folder to look at', 'the tab says it too');
    assert.match(await seen(page.locator('.summary')), /^2 folders: 1 complete, 1 incomplete\.$/);
    assert.doesNotMatch(
      await seen(page.locator('main')),
      /\b(null|undefined|NaN)\b|\[object /,
      'no value the page failed to put into words',
    );
    assert.match(await seen(page.locator('main')), /Checks: "0 0 1 1 \*" UTC, e-mail never\./);
    const fullTime = await photos.locator('.detail time').getAttribute('title');
    assert.match(fullTime ?? '', /\d{4}-\d\d-\d\d \d\d:\d\d UTC/, 'the full time on hover');
  });

  await page.screenshot({ path: path.join(SCREENSHOTS, 'synker-status-page.png'), fullPage: true });

  await t.test('a folder’s page: the differences grouped by category, hostile names as text, the history marks', async () => {
    await page.locator('[data-folder="docs"] h2 a').click();
    await page.locator('.history').waitFor({ timeout: WAIT_MS });
    assert.equal(page.url(), `${backup.url}#/folders/docs`);
    assert.deepEqual(await marks(page), { error: 1, differences: 1 }, 'one failed and one incomplete check');
    assert.match(await seen(page.locator('.history')), /2 checks in the last 90 days: 0 complete, 1 incomplete, 1 failed/);
    // Named as what it counts: every failing byte (moved and changed too), not only "missing on backup".
    assert.match(await seen(page.locator('.history')), /Bytes to fix after each check: at most 39 KiB/);
    const missing = page.locator('.category[data-category="missing"]');
    assert.match(await seen(missing.locator('h3')), /^Missing on backup: 9 \(39 KiB\)$/);
    const items = await missing.locator('li code.name').allTextContents();
    // The whole folder is one item, its name with a "/" after it, and what it holds; none of its files is listed.
    assert.equal(items.length, HOSTILE.length + 2, items.join(' | '));
    assert.ok(items.includes(`${printablePath(WHOLE)}/`), `the whole folder listed as text: ${items.join(' | ')}`);
    assert.match(await seen(missing.locator('li', { hasText: 'whole folder' })), /: whole folder, 2 files, 3 B$/);
    for (const name of [...HOSTILE, 'big.bin'])
      assert.ok(items.includes(printablePath(name)), `${JSON.stringify(name)} listed as text: ${items.join(' | ')}`);
    assert.ok(items.includes('esc\\u{1b}[2J\\u{1b}[31mEVIL'), 'control characters shown as escapes, as in the terminal');
    assert.ok(items.includes('rlo\\u{202e}gpj.exe'), 'a bidirectional override shown as an escape');
    // Run in the page (a string: these tests compile without the DOM's types).
    const injected = await page.evaluate(`({
      img: document.querySelectorAll('img').length,
      scripts: [...document.scripts].map((s) => s.getAttribute('src')),
      handlers: document.querySelectorAll('[onerror], [onload]').length,
    })`);
    assert.deepEqual(injected, { img: 0, scripts: ['app.js'], handlers: 0 }, 'no element came from a name');
    assert.match(await seen(page.locator('.folder .facts')), /path\s+.*docs copy "><img src=x onerror=alert\(4\)>/);
    // A backup folder's charts: its own checks, one line each, unnamed; no rows per machine.
    assert.equal(await page.locator('.history svg.line g.series-line').count(), 2, 'one line in each of the two charts');
    assert.equal(await page.locator('.history [data-device]').count(), 0, 'no machine named: they are all this one’s checks');
    assert.deepEqual(dialogs, [], 'no dialog opened');
  });

  await page.screenshot({ path: path.join(SCREENSHOTS, 'synker-status-folder.png'), fullPage: true });

  await t.test('a check run on the command line updates the page when it ends, without a reload', async () => {
    await page.evaluate('window.stillHere = true');
    await writeTree(roots.docs[1], DOCS);
    const check = await runSynker(['check', 'docs', '--no-discovery'], { env: backupEnv });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    await page.locator('.folder .verdict[data-verdict="complete"]').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await marks(page), { error: 1, differences: 1, complete: 1 });
    assert.match(await seen(page.locator('.report')), /No differences: the backup matched the source\./);
    assert.equal(await page.evaluate('window.stillHere'), true, 'the same document: no reload');
  });

  await t.test('"check now" starts the schedule’s check and says so; it ends on the page', async () => {
    const action = page.locator('.folder .actions .action');
    await action.getByRole('button', { name: 'Check now' }).click();
    await action.locator('.outcome[data-state="running"], .outcome[data-state="finished"]').waitFor({ timeout: WAIT_MS });
    await action.locator('.outcome[data-state="finished"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await seen(action.locator('.outcome')), 'finished: complete');
    assert.equal(
      await page.evaluate('document.activeElement.dataset.action'),
      'check:docs',
      'the button keeps the focus across the redraw',
    );
    assert.deepEqual(await marks(page), { error: 1, differences: 1, complete: 2 });
    // Two complete checks today: one mark that says so, not two piled on one spot (two marks only across midnight).
    if ((await page.locator('.history .mark[data-status="complete"]').count()) === 1)
      assert.match((await page.locator('.history svg.marks').textContent()) ?? '', /×2/);
  });

  await t.test('"send the report again": not offered while e-mail is not set up; then offered, queued and delivered', async () => {
    const action = page.locator('.report .actions .action');
    const button = action.getByRole('button', { name: 'Send the report again' });
    assert.equal(await page.locator('.report').count(), 1, 'the report is shown');
    assert.equal(await button.count(), 0, 'no button that could only be refused');
    const smtp = await new TestSmtpServer().start();
    t.after(() => smtp.stop());
    const withSmtp = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...withSmtp, smtp: testSmtpSection(smtp.port) }, null, 2));
    // The agent reads the edited config when it changes and tells the page, which draws the button then.
    await button.waitFor({ timeout: WAIT_MS });
    await button.click();
    await action.locator('.outcome[data-state="queued"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await seen(action.locator('.outcome')), 'queued: the report goes out through the outbox');
    await waitUntil(async () => smtp.received.length > 0);
    const mail = await smtp.parsed(0);
    assert.match(mail.subject ?? '', /docs/, 'the report of docs');
  });

  await t.test('after the agent restarts the page reconnects and updates again', async () => {
    await stopAgent(backup);
    await page.locator('#live[data-state="lost"]').waitFor({ timeout: WAIT_MS });
    backup = await startWebAgent(t, backupEnv, { webPort: backup.port });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: WAIT_MS });
    await writeTree(roots.docs[1], { 'report.txt': 'edited on the backup' });
    await rename(path.join(roots.docs[1], 'notes'), path.join(roots.docs[1], 'notes (old)'));
    const check = await runSynker(['check', 'docs', '--no-discovery'], { env: backupEnv });
    assert.equal(check.code, 1, check.stdout + check.stderr);
    await page.locator('.folder .verdict[data-verdict="incomplete"]').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await marks(page), { error: 1, differences: 2, complete: 2 });
    assert.match(await seen(page.locator('.category[data-category="content"] h3')), /^Content differs/);
    // A move names both places: where the source has it, and where the backup has it.
    assert.match(await seen(page.locator('.category[data-category="moved"] li')), /^notes\/ → notes \(old\)\//);
  });

  await t.test(
    'a check by hand that fails after the last verification: failed in the page, the terminal and the API, with since when',
    async () => {
      // The source cannot be reached at this address (nothing listens on port 1): the check fails before comparing.
      const failedAgain = await runSynker(['check', 'docs', '--no-discovery', '--peer', '127.0.0.1:1', '--timeout', '2s'], {
        env: backupEnv,
      });
      assert.equal(failedAgain.code, 2, failedAgain.stdout + failedAgain.stderr);
      await page.locator('.folder .verdict[data-verdict="failed"]').waitFor({ timeout: WAIT_MS });
      const detail = await seen(page.locator('.folder .detail'));
      assert.match(
        detail,
        /^the last manual check failed: .+ \(\d+ seconds? ago\); not verified complete since \S.*, last complete \d+ (seconds?|minutes?) ago$/,
        'what failed, when, and since when it has not been complete',
      );
      assert.match(await seen(page.locator('.report .error')), /^The check failed: /, 'the report below says the same');
      const text = await page.evaluate('document.documentElement.textContent');
      assert.doesNotMatch(String(text), /\[object /, 'no object turned into text anywhere on the folder’s page');
      await page.goto(`${backup.url}#/`);
      const docs = page.locator('[data-folder="docs"]');
      await docs.locator('h2 .verdict[data-verdict="failed"]').waitFor({ timeout: WAIT_MS });
      assert.match(await seen(docs.locator('.detail')), /^the last manual check failed: /);
      assert.doesNotMatch(String(await page.evaluate('document.documentElement.textContent')), /\[object /, 'nor on the overview');
      const api = (await page.evaluate(
        `fetch('/api/v1/folders/docs', { headers: { Authorization: 'Bearer ${token}' } }).then((r) => r.json())`,
      )) as {
        folder: { verdict: string; lastRun: { status: string; by: string }; notCompleteSince: string; lastCompleteAt: string };
      };
      assert.equal(api.folder.verdict, 'failed');
      assert.deepEqual([api.folder.lastRun.status, api.folder.lastRun.by], ['error', 'manual-check']);
      assert.ok(Date.parse(api.folder.notCompleteSince) > Date.parse(api.folder.lastCompleteAt), JSON.stringify(api.folder));
      const terminal = await runSynker(['status'], { env: backupEnv });
      assert.equal(terminal.code, 1, 'needs attention');
      assert.match(terminal.stdout, /^docs\s+backup\s.*\sfailed$/m, 'VERDICT failed');
      assert.match(
        terminal.stdout,
        /^docs: the last manual check failed at \d{4}-\d\d-\d\d \d\d:\d\d UTC: .+; not verified complete since \d{4}-\d\d-\d\d \d\d:\d\d UTC, last complete \d+ \w+ ago$/m,
      );
      const metrics = await page.evaluate(`fetch('/metrics', { headers: { Authorization: 'Bearer ${token}' } }).then((r) => r.text())`);
      assert.match(String(metrics), /synker_folder_complete\{folder="docs",[^}]*\} 0/, 'the metrics say it too');
    },
  );

  await t.test('the source’s page: each folder says what its backup machines told it, with no "check now"', async () => {
    let url: string | undefined;
    await waitUntil(async () => {
      url = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(source.log())?.[1];
      return url !== undefined;
    });
    origins.push(url!);
    const sourceToken = (await readFile(path.join(dir, 'laptop', 'synker', 'data', 'web-token'), 'utf8')).trim();
    const laptopPage = await context.newPage();
    await laptopPage.goto(`${url}#token=${sourceToken}`);
    await laptopPage.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });
    // What the source's agent says it was told (nothing until the backups tell their sources): the page shows exactly that.
    const status = (await laptopPage.evaluate(
      `fetch('/api/v1/status', { headers: { Authorization: 'Bearer ${sourceToken}' } }).then((r) => r.json())`,
    )) as {
      folders: Array<{
        id: string;
        verdict: string;
        backups: Array<{ device: { id: string; name: string }; lastVerified: unknown; stale: boolean }>;
      }>;
    };
    for (const folder of status.folders) {
      const card = laptopPage.locator(`[data-folder="${folder.id}"]`);
      assert.equal(await card.locator('h2 .verdict').getAttribute('data-verdict'), folder.verdict);
      assert.match(await seen(card.locator('.facts')), /role\s+source \(this machine holds the originals\)/);
      assert.equal(await card.getByRole('button', { name: 'Check now' }).count(), 0, 'a source is checked by its backups');
      if (folder.backups.length === 0)
        assert.match(await seen(card.locator('.detail')), /^No backup machine has told this one about a check yet/);
      for (const b of folder.backups) {
        // One line per backup machine: its name, what it found, when.
        const line = await seen(card.locator(`.backups li[data-device="${b.device.id}"]`));
        assert.match(
          line,
          b.lastVerified === null
            ? new RegExp(`${b.device.name}: (not verified yet|its last check failed)`)
            : new RegExp(`${b.device.name}: .*verified \\d+ \\w+ ago`),
        );
      }
    }
    const all = await seen(laptopPage.locator('main'));
    assert.doesNotMatch(all, /\b(null|undefined|NaN)\b|\[object /, 'no value the page failed to put into words');
    assert.doesNotMatch(all, /Checks: /, 'the schedule checks backup folders: none here');
    await laptopPage.screenshot({ path: path.join(SCREENSHOTS, 'synker-status-source.png'), fullPage: true });
    // A source folder's page: what each backup found, and where its list of files is; never an anonymous "last check".
    const told = status.folders.find((f) => f.backups.length > 0);
    assert.ok(told, 'the backup told its source about a folder');
    await laptopPage.goto(`${url}#/folders/${encodeURIComponent(told!.id)}`);
    await laptopPage.locator('.history').waitFor({ timeout: WAIT_MS });
    const report = await seen(laptopPage.locator('.report'));
    assert.match(report, /^What each backup machine found\n/);
    assert.doesNotMatch(report, /The last check|No differences: the backup matched/);
    assert.match(report, /nas: /);
    assert.doesNotMatch(String(await laptopPage.evaluate('document.documentElement.textContent')), /\[object /);
    await laptopPage.close();
  });

  await t.test('at 360 px wide in dark mode: nothing wider than the screen', async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 360, height: 800 });
    await narrow.emulateMedia({ colorScheme: 'dark' });
    // A new tab: its own storage, so opened by the address `synker ui` prints, then the folder.
    await narrow.goto(`${backup.url}#token=${token}`);
    await narrow.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });
    await narrow.goto(`${backup.url}#/folders/docs`);
    await narrow.locator('.history').waitFor({ timeout: WAIT_MS });
    const widths = (await narrow.evaluate(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    )) as { scroll: number; client: number };
    assert.ok(widths.scroll <= widths.client, `no sideways scrolling: ${JSON.stringify(widths)}`);
    const background = await narrow.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(background, 'rgb(13, 17, 23)', 'dark colours');
    await narrow.screenshot({ path: path.join(SCREENSHOTS, 'synker-status-folder-360-dark.png'), fullPage: true });
    await narrow.close();
  });

  await t.test('without the token the page says how to open it, and shows no data', async () => {
    const stranger = await browser.newContext();
    const other = await stranger.newPage();
    await other.goto(backup.url);
    const alert = other.getByRole('alert');
    await alert.waitFor({ timeout: WAIT_MS });
    assert.match(await seen(alert), /needs the agent's token\. Open it with "synker ui"/);
    assert.equal(await other.locator('[data-folder]').count(), 0);
    await stranger.close();
  });

  await t.test('a renewed token (web-token deleted, agent restarted): the page says its key changed and how to open it again', async () => {
    await stopAgent(backup);
    await page.locator('#live[data-state="lost"]').waitFor({ timeout: WAIT_MS });
    await rm(path.join(dir, 'nas', 'synker', 'data', 'web-token'));
    backup = await startWebAgent(t, backupEnv, { webPort: backup.port });
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: WAIT_MS });
    assert.match(await seen(alert), /^This page's key changed: .* Open the page again with "synker ui"\.$/);
    assert.match(await seen(page.locator('#live')), /key/);
    assert.doesNotMatch(await seen(page.locator('#live')), /reconnecting/);
    assert.equal(await page.locator('[data-folder]').count(), 0, 'no data shown');
    // Opened again as it says, in this same tab (only the fragment changes: no reload): the new key works.
    const again = await runSynker(['ui', '--no-open'], { env: backupEnv });
    assert.equal(again.code, 0, again.stderr);
    await page.goto(again.stdout.trim());
    await page.locator('[data-folder="docs"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: WAIT_MS });
    assert.ok(!page.url().includes(again.stdout.trim().split('#token=')[1]!), 'the new token is gone from the address too');
  });

  await t.test('the browser asked nothing of another origin, and the page raised no error', async () => {
    assert.deepEqual(refused, []);
    assert.ok(requested.length > 0);
    for (const url of requested)
      assert.ok(
        origins.some((o) => url.startsWith(o)),
        url,
      );
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(refusedByCsp, [], 'nothing the page does is refused by the CSP');
    assert.deepEqual(dialogs, []);
  });

  for (const name of [
    'synker-status-page.png',
    'synker-status-folder.png',
    'synker-status-folder-360-dark.png',
    'synker-status-source.png',
  ]) {
    const file = path.join(SCREENSHOTS, name);
    assert.ok((await stat(file)).size > 20_000, `a real screenshot: ${file}`);
    t.diagnostic(`screenshot: ${file}`);
  }
});

/** A backup machine's name as its source calls it: markup, and a bidirectional override, that must stay text. */
const HOSTILE_DEVICE = '<svg onload=alert(6)>"><img src=x onerror=alert(5)>\u202Eoffice';

test('a source told by two backup machines draws one named line and one row of marks per machine, in styles told apart without colour', {
  skip: chromiumMissing(),
  timeout: 180_000,
}, async (t) => {
  const dir = await tempDir(t);
  // One runtime folder: the backups' checks find the source's agent on this machine without any network discovery.
  const run = path.join(dir, 'run');
  const laptopEnv = isolatedEnv(path.join(dir, 'laptop'), { XDG_RUNTIME_DIR: run });
  const nasEnv = isolatedEnv(path.join(dir, 'nas'), { XDG_RUNTIME_DIR: run });
  const officeEnv = isolatedEnv(path.join(dir, 'office'), { XDG_RUNTIME_DIR: run });
  const files = { 'a.jpg': 'alpha', 'b.jpg': 'bravo', 'c/d.txt': 'delta', 'e.bin': 'e'.repeat(5000) };
  const roots = { laptop: path.join(dir, 'pics'), nas: path.join(dir, 'pics-nas'), office: path.join(dir, 'pics-office') };
  await writeTree(roots.laptop, files);
  await writeTree(roots.nas, files);
  // The office's copy lacks three of them at first, then two.
  await writeTree(roots.office, { 'a.jpg': 'alpha' });
  const laptop = await deviceId(laptopEnv);
  const nas = await deviceId(nasEnv);
  const office = await deviceId(officeEnv);
  await synkerOk(laptopEnv, ['trust', nas, '--name', 'nas']);
  await synkerOk(laptopEnv, ['trust', office, '--name', HOSTILE_DEVICE]);
  await synkerOk(laptopEnv, ['folder', 'add', 'pics', roots.laptop, '--role', 'source', '--share', nas, office]);
  for (const [env, root] of [
    [nasEnv, roots.nas],
    [officeEnv, roots.office],
  ] as const) {
    await synkerOk(env, ['trust', laptop, '--name', 'laptop']);
    await synkerOk(env, ['folder', 'add', 'pics', root, '--role', 'backup', '--share', 'laptop']);
  }
  const source = await startCliAgent(t, laptopEnv, [], ['--no-discovery', '--listen', '127.0.0.1', '--web-port', '0']);
  const check = async (env: NodeJS.ProcessEnv, code: number) => {
    const r = await runSynker(['check', 'pics', '--no-discovery'], { env });
    assert.equal(r.code, code, r.stdout + r.stderr);
  };
  await check(nasEnv, 0);
  await check(officeEnv, 1);
  await writeTree(roots.office, { 'b.jpg': 'bravo' });
  await check(officeEnv, 1);
  await check(nasEnv, 0);

  let url: string | undefined;
  await waitUntil(async () => {
    url = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(source.log())?.[1];
    return url !== undefined;
  });
  const token = (await readFile(path.join(dir, 'laptop', 'synker', 'data', 'web-token'), 'utf8')).trim();
  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, serviceWorkers: 'block' });
  const refused: string[] = [];
  await context.route('**/*', async (route) => {
    if (route.request().url().startsWith(url!)) await route.continue();
    else {
      refused.push(route.request().url());
      await route.abort('blockedbyclient');
    }
  });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${url}#token=${token}`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });
  await page.goto(`${url}#/folders/pics`);
  // Each backup's check ended once its source had kept what it was told (history too): all four runs are there.
  await page.locator('.history').waitFor({ timeout: WAIT_MS });

  const officeName = printablePath(HOSTILE_DEVICE);
  const expected: Record<string, { name: string; values: string[]; marks: string }> = {
    [nas]: { name: 'nas', values: ['0', '0'], marks: 'complete:2' },
    // Missing at first: b.jpg, the folder c, c/d.txt, e.bin; then b.jpg is there.
    [office]: { name: officeName, values: ['4', '3'], marks: 'differences:2' },
  };

  // The differences chart: a line per backup machine, named in the chart, each with its own points.
  const lines = (await page.evaluate(`
    [...document.querySelector('.history figure.line-chart').querySelectorAll('svg.line g.series-line')].map((g) => ({
      device: g.getAttribute('data-device'),
      name: g.querySelector(':scope > title')?.textContent,
      label: g.getAttribute('aria-label'),
      dash: g.querySelector('path.series')?.getAttribute('stroke-dasharray') ?? null,
      shapes: [...g.querySelectorAll('.point')].map((p) => p.tagName + ' ' + (p.getAttribute('d') ?? '').replace(/[-0-9. ]+/g, '')),
      values: [...g.querySelectorAll('.point > title')].map((title) => title.textContent.split(': ').at(-1)),
      names: [...g.querySelectorAll('.point > title')].map((title) => title.textContent.split(': ').at(-2)),
    }))`)) as Array<{
    device: string;
    name: string;
    label: string;
    dash: string | null;
    shapes: string[];
    values: string[];
    names: string[];
  }>;
  assert.deepEqual(lines.map((l) => l.device).sort(), [nas, office].sort(), JSON.stringify(lines));
  for (const line of lines) {
    const want = expected[line.device]!;
    assert.equal(line.name, want.name, 'the line names its machine, as text');
    assert.deepEqual(line.values, want.values, `${want.name}'s own points, oldest first`);
    assert.deepEqual(line.names, [want.name, want.name], 'each point says whose it is');
    assert.equal(line.label, `${want.name}: at most ${want.values[0]}, the last ${want.values[1]}`, 'its highest and its last');
    assert.equal(new Set(line.shapes).size, 1, 'one shape of point per line');
  }
  const [one, two] = lines as [(typeof lines)[0], (typeof lines)[0]];
  assert.notEqual(one.dash, two.dash, 'told apart by the dash of the line');
  assert.notEqual(one.shapes[0], two.shapes[0], 'and by the shape of its points');
  // The key below it: the same name as text beside the same dash and shape.
  const key = page.locator('.history figure.line-chart').first().locator('.series-legend li');
  assert.deepEqual((await key.allTextContents()).map((s) => s.trim()).sort(), ['nas', officeName].sort());
  assert.match(
    await seen(page.locator('.history figure.line-chart').nth(1).locator('figcaption')),
    /^Bytes to fix after each check: .*nas: at most 0 B/,
  );

  // The marks: a row of its own per machine, under its name, counting only its checks.
  const rows = page.locator('.history .device-history');
  assert.equal(await rows.count(), 2);
  for (const [device, want] of Object.entries(expected)) {
    const row = page.locator(`.history .device-history[data-device="${device}"]`);
    assert.equal(await row.locator('.device-name bdi.name').textContent(), want.name, 'named as text');
    const kinds = await row
      .locator('svg.marks .mark')
      .evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-status')}:${n.getAttribute('data-count')}`));
    // Both checks of a machine ran today (two marks of one kind only across midnight).
    const total = kinds.reduce((sum, k) => sum + Number(k.split(':')[1]), 0);
    assert.equal(total, 2, JSON.stringify(kinds));
    assert.ok(
      kinds.every((k) => k.startsWith(want.marks.split(':')[0]!)),
      `only ${want.name}'s kind of result: ${kinds.join(', ')}`,
    );
  }
  assert.match(
    await seen(page.locator(`.history .device-history[data-device="${office}"] .device-name`)),
    /: 2 checks: 0 complete, 2 incomplete, 0 failed$/,
  );
  assert.match(await seen(page.locator('.history > p').first()), /^4 checks in the last 90 days: 2 complete, 2 incomplete, 0 failed\.$/);

  // The hostile name reached the page as text only: no element, no handler, no dialog came from it.
  const injected = await page.evaluate(`({
    img: document.querySelectorAll('img').length,
    svgWithHandler: document.querySelectorAll('[onload], [onerror]').length,
    scripts: [...document.scripts].map((s) => s.getAttribute('src')),
  })`);
  assert.deepEqual(injected, { img: 0, svgWithHandler: 0, scripts: ['app.js'] });
  assert.ok(officeName.includes('\\u{202e}'), 'the override shown as an escape, as in the terminal');
  const file = path.join(SCREENSHOTS, 'synker-status-source-history.png');
  await page.locator('.history').screenshot({ path: file });
  assert.deepEqual(dialogs, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(refused, []);
  assert.ok((await stat(file)).size > 10_000, `a real screenshot: ${file}`);
  t.diagnostic(`screenshot: ${file}`);
});
