/**
 * The report says what to do next, fitting its verdict, in the same words on
 * the terminal (`hint: …`) and in the e-mail (`What to do: …`, text and HTML).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmailContext } from '../../src/mail/context.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import type { CheckReport } from '../../src/report/model.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { nextStepWords } from '../../src/report/words.js';
import { file, reportOf } from '../harness/report.js';

const CTX: EmailContext = { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' };

function said(report: CheckReport): { terminal: string[]; text: string[]; html: string[] } {
  const terminal = renderTerminal(report, { color: false, all: true })
    .split('\n')
    .filter((l) => l.startsWith('hint: '))
    .map((l) => l.slice('hint: '.length));
  const mail = renderReportEmail(report, CTX);
  const text = mail.text
    .split('\n')
    .filter((l) => l.startsWith('What to do: '))
    .map((l) => l.slice('What to do: '.length));
  const html = [...mail.html.matchAll(/<strong>What to do:<\/strong> ([^<]*)/g)].map((m) => m[1]!.replace(/&quot;/g, '"'));
  return { terminal, text, html };
}

test('an incomplete backup: the terminal and the e-mail give the same next step, the sync that fixes it', async () => {
  const report = await reportOf([file('a.jpg', 'alpha'), file('b.jpg', 'bravo')], [file('a.jpg', 'alpha')], 'photos');
  assert.equal(report.complete, false);
  const next = 'synker sync photos copies what the backup lacks from the source (add --dry-run to see the plan first)';
  assert.equal(nextStepWords(report), next);
  assert.deepEqual(said(report), { terminal: [next], text: [next], html: [next] });
});

test('a suspicious change on the source is looked at before a sync; extras need --delete', async () => {
  const report = await reportOf(
    [file('suspicious/a.doc', 'new'), file('b.jpg', 'bravo')],
    [file('suspicious/a.doc', 'old'), file('b.jpg', 'bravo'), file('only-here.txt', 'x')],
  );
  const next = nextStepWords(report)!;
  assert.match(
    next,
    /^look at the files marked SUSPICIOUS on the source first \(a sync does not copy them without --force\); then synker sync pictures/,
  );
  if (report.differences.some((d) => d.category === 'extra' && d.failing)) assert.match(next, /add --delete/);
  const { terminal, text } = said(report);
  assert.deepEqual(terminal, [next]);
  assert.deepEqual(text, [next]);
});

test('a complete backup has nothing to do: no hint, no "What to do"', async () => {
  const report = await reportOf([file('a.jpg', 'alpha')], [file('a.jpg', 'alpha')]);
  assert.equal(report.complete, true);
  assert.equal(nextStepWords(report), undefined);
  assert.deepEqual(said(report), { terminal: [], text: [], html: [] });
});

test('a check that could not be done gives its own hint once, the same in both', async () => {
  const base = await reportOf([file('a.jpg', 'alpha')], [file('a.jpg', 'alpha')]);
  const report: CheckReport = {
    ...base,
    complete: false,
    exitCode: 2,
    error: { code: 'E_SOURCE_UNREACHABLE', message: 'the source did not answer', hint: 'Start the agent on the source.' },
  };
  assert.equal(nextStepWords(report), undefined);
  assert.deepEqual(said(report), {
    terminal: ['Start the agent on the source.'],
    text: ['Start the agent on the source.'],
    html: ['Start the agent on the source.'],
  });
});
