// Longer than 300 lines: the whole page is one browser module (the server serves a fixed list of files, no build step):
// the overview, a folder's page, the history chart, live updates and the two actions read best side by side.
/**
 * synker's status page: plain browser JavaScript, no build step, nothing
 * loaded from the internet. Routes by hash: `#/` lists every folder of this
 * machine with its verdict; `#/folders/ID` shows one folder's last report
 * and its history over 90 days (SVG drawn here). The data comes from the
 * agent's API (docs/api.md); the event stream /api/v1/events (read with
 * fetch) refreshes it when a check ends, without a reload.
 *
 * Every name from the API (folder paths, file names, device names, messages)
 * reaches the page through textContent, createTextNode or setAttribute, and
 * through printable.js's escapes first (the terminal's and e-mail's rule):
 * never as markup. Sizes, counts and ages come from units.js, the same rules
 * the terminal and e-mail use (both served by the agent from src/base).
 */
import { printablePath, printableText } from './printable.js';
import { formatAge, formatBytes, formatCount, plural, withSize } from './units.js';

const API = '/api/v1';
const DAY_MS = 86_400_000;
const HISTORY_DAYS = 90;
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The agent's token: `synker ui` opens this page at `#token=…` (a fragment, which the browser sends to no
 * server); it moves here into sessionStorage (this origin's, so this port's, and this tab's only) and leaves
 * the address at once. Every request carries it as `Authorization: Bearer`: never a cookie, which the browser
 * would send to every other server on 127.0.0.1 too.
 */
const TOKEN_KEY = 'synker-token';
function takeTokenFromAddress() {
  const fragment = /(?:^#|&)token=([0-9a-fA-F]{64})(?:&|$)/.exec(location.hash);
  const query = new URLSearchParams(location.search);
  if (fragment) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fragment[1].toLowerCase());
    } catch {}
    memoryToken = fragment[1].toLowerCase();
  }
  // Out of the address bar and the history: the fragment, and a token an old `synker ui` put in the query.
  if (fragment || query.has('token')) history.replaceState(null, '', `${location.pathname}${fragment ? '#/' : location.hash}`);
  return fragment !== null;
}
/** When storage is refused (a browser setting), the token lives in this page's memory: until a reload. */
let memoryToken = null;
function pageToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}
takeTokenFromAddress();

function authHeaders(extra = {}) {
  const token = pageToken();
  return token === null ? extra : { ...extra, Authorization: `Bearer ${token}` };
}

// ---------------------------------------------------------------- small DOM helpers (text only, never markup)

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** A name from disk or from a peer, escaped as every synker renderer shows it, kept in its own direction. */
function name(text, tag = 'bdi') {
  return el(tag, { class: 'name' }, printablePath(String(text)));
}

// ---------------------------------------------------------------- time

/** The agent's clock minus this browser's: ages are counted from the agent's time, as `synker status` does. */
let skewMs = 0;
const now = () => Date.now() + skewMs;

/** Made once: a formatter per call costs about a millisecond, which 10,000 marks of a busy history would pay. */
const LOCAL_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

function fullTime(iso) {
  const d = new Date(iso);
  return `${LOCAL_TIME.format(d)} (${d.toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
}

function relative(iso) {
  const ms = Date.parse(iso) - now();
  return ms <= 0 ? `${formatAge(-ms)} ago` : `in ${formatAge(ms)}`;
}

/** "2 hours ago", the full time on hover and to screen readers; kept current by tick(). */
function timeEl(iso) {
  return el('time', { datetime: iso, title: fullTime(iso), 'data-relative': '' }, relative(iso));
}

function tick() {
  for (const t of document.querySelectorAll('time[data-relative]')) t.textContent = relative(t.getAttribute('datetime'));
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the agent answered ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? null;
    this.hint = body?.error?.hint ?? null;
  }
}

/** fetch(), with the token, and "the agent did not answer" (stopped, restarting) as an ApiError of status 0. */
async function ask(path, init = {}) {
  try {
    return await fetch(`${API}${path}`, { credentials: 'omit', cache: 'no-store', ...init, headers: authHeaders(init.headers) });
  } catch (err) {
    throw new ApiError(0, { error: { message: `the agent did not answer (${err.message})` } });
  }
}

async function getJson(path) {
  const res = await ask(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  if (body?.generatedAt) skewMs = Date.parse(body.generatedAt) - Date.now();
  return body;
}

async function post(path) {
  const res = await ask(path, { method: 'POST', headers: { 'X-Synker-Token': pageToken() ?? '', Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

// ---------------------------------------------------------------- verdicts, in the words `synker status` uses

/**
 * Each verdict's symbol, drawn (16 by 16, in the badge's colour): a character such as ⏱ or ✓ needs a font
 * that has it, and without one the browser shows an empty box. [element, attributes] pairs.
 */
const QUESTION = [
  ['path', { d: 'M5.5 6a2.5 2.5 0 1 1 3.6 2.2c-.7.4-1.1.9-1.1 1.7v.6' }],
  ['circle', { cx: 8, cy: 13.2, r: 1, class: 'dot' }],
];
const VERDICT = {
  complete: { word: 'complete', icon: [['path', { d: 'M3 8.5l3.5 3.5L13 4.5' }]] },
  incomplete: {
    word: 'incomplete',
    icon: [
      ['path', { d: 'M8 2.5v7.5' }],
      ['circle', { cx: 8, cy: 13.2, r: 1, class: 'dot' }],
    ],
  },
  failed: { word: 'failed', icon: [['path', { d: 'M4 4l8 8M12 4l-8 8' }]] },
  'not-verified': { word: 'not verified', icon: QUESTION },
  stale: {
    word: 'stale',
    icon: [
      ['circle', { cx: 8, cy: 8, r: 6 }],
      ['path', { d: 'M8 4.5V8l2.5 1.5' }],
    ],
  },
  absent: {
    word: 'absent',
    icon: [
      ['circle', { cx: 8, cy: 8, r: 5 }],
      ['path', { d: 'M3 13L13 3' }],
    ],
  },
};

/** The verdict as a badge: a symbol and a word, so colour is never the only signal. */
function verdictBadge(verdict) {
  const v = VERDICT[verdict] ?? { word: String(verdict), icon: QUESTION };
  return el(
    'span',
    { class: `verdict verdict-${VERDICT[verdict] ? verdict : 'unknown'}`, 'data-verdict': verdict },
    svg('svg', { viewBox: '0 0 16 16', class: 'icon', 'aria-hidden': 'true' }, ...v.icon.map(([tag, attrs]) => svg(tag, attrs))),
    ` ${v.word}`,
  );
}

/** A clock time, with the date unless it is today: "since 14:02", "since 3 Dec 2026, 14:02"; the full time on hover. */
const CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const DATE_CLOCK = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function clockEl(iso) {
  const d = new Date(iso);
  const today = new Date(now()).toDateString() === d.toDateString();
  return el('time', { datetime: iso, title: fullTime(iso) }, (today ? CLOCK : DATE_CLOCK).format(d));
}

/**
 * Since when it has not been complete, and when it last was (API: notCompleteSince, lastCompleteAt):
 * "not verified complete since 14:02, last complete 3 days ago", "…, never complete". Nothing when complete.
 */
function sinceWords(item) {
  if (item.verdict === 'complete' || item.notCompleteSince == null) return [];
  // Whatever the verdict now (incomplete, failed, stale): not shown complete since then.
  return [
    'not verified complete since ',
    clockEl(item.notCompleteSince),
    ', ',
    ...(item.lastCompleteAt ? ['last complete ', timeEl(item.lastCompleteAt)] : ['never complete']),
  ];
}

/** The sentence under a folder's verdict: what it means, with since when (a flat list: el() flattens one level). */
function verdictDetail(folder) {
  if (folder.role === 'source' && folder.problem === null) {
    const told = folder.backups?.length ?? 0;
    if (told === 0) return ['No backup machine has told this one about a check yet (each backup tells its source after its check).'];
    // The rule (docs/api.md): a source's verdict is the worst of what its backups told it.
    const worst = folder.backups
      .filter((b) => b.verdict === folder.verdict)
      .map((b) => printablePath(b.device?.name ?? b.device?.id ?? '?'));
    // Each backup's line below says what it found and since when.
    return told === 1
      ? ['as its backup machine last told this one:']
      : [`the worst of its ${formatCount(told)} backup machines (${worst.join(', ')}); each one:`];
  }
  const verified = folder.lastVerified;
  const since = sinceWords(folder);
  const then = since.length ? ['; ', ...since] : [];
  switch (folder.verdict) {
    case 'complete':
      return verified ? ['verified complete ', timeEl(verified.at)] : ['complete'];
    case 'incomplete':
      return verified
        ? [printableText(verified.summary), ' (verified ', timeEl(verified.at), ')', ...then]
        : ['the backup is incomplete', ...then];
    case 'failed': {
      // The latest run of any kind (scheduled or by hand): the one that failed.
      const run = [folder.lastRun, folder.lastCheck].filter(Boolean).sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
      return [
        `the last ${run?.by?.startsWith('manual') ? `${byWords(run.by)} ` : 'check '}failed: `,
        printableText(run?.summary ?? ''),
        ...(run ? [' (', timeEl(run.at), ')'] : []),
        ...then,
      ];
    }
    case 'stale':
      return verified ? ['not verified since ', timeEl(verified.at), ...then] : ['never verified', ...then];
    case 'absent':
      return [printableText(folder.problem?.message ?? 'the folder is not there (an unmounted disk?)')];
    default:
      return verified ? ['not verified since ', timeEl(verified.at)] : ['never verified'];
  }
}

/**
 * On a source: one line per backup machine, its verdict, what it found and since when:
 * "office: 1 file missing, verified 2 minutes ago; not verified complete since 14:02, last complete 3 days ago".
 */
function backupLines(folder) {
  if (folder.role !== 'source') return null;
  const backups = folder.backups ?? [];
  if (backups.length === 0) return null;
  return el(
    'ul',
    { class: 'backups', 'aria-label': 'what each backup machine last told this one' },
    backups.map((b) => {
      const device = name(b.device?.name ?? b.device?.id ?? '?');
      const r = b.lastVerified;
      const attempt = b.lastAttempt ?? null;
      const li = el('li', { 'data-device': b.device?.id ?? '' }, verdictBadge(b.verdict), ' ', device, ': ');
      if (b.verdict === 'failed' && attempt)
        li.append(`its last check failed: ${printableText(attempt.summary)} (`, timeEl(attempt.at), ')');
      else if (r === null) li.append('not verified yet');
      else {
        li.append(r.status === 'complete' ? 'complete' : printableText(r.summary), ', verified ', timeEl(r.at));
      }
      const since = sinceWords(b);
      if (since.length) li.append('; ', ...since);
      return li;
    }),
  );
}

/**
 * A source's "what the backups found": the lists of files live on each backup machine (it ran the check),
 * so this page says where to look, per backup, never an anonymous "last check".
 */
function backupReportsSection(folder) {
  const section = el(
    'section',
    { class: 'report', 'aria-labelledby': 'report-title' },
    el('h2', { id: 'report-title' }, 'What each backup machine found'),
  );
  const backups = folder.backups ?? [];
  if (backups.length === 0) {
    section.append(el('p', {}, 'No backup machine has told this one about a check yet.'));
    return section;
  }
  for (const b of backups) {
    const who = printablePath(b.device?.name ?? b.device?.id ?? '?');
    const r = b.lastAttempt ?? b.lastVerified;
    const p = el('p', { 'data-device': b.device?.id ?? '' }, name(b.device?.name ?? b.device?.id ?? '?'), ': ');
    if (r == null) p.append('no check told yet.');
    else {
      const what =
        r.status === 'complete' ? 'complete' : r.status === 'error' ? `failed: ${printableText(r.summary)}` : printableText(r.summary);
      p.append(`${what} (`, timeEl(r.at), ').');
      if (r.status !== 'complete')
        p.append(
          ` The list of files is kept on ${who}: run synker check for this folder on ${who}, or open ${who}'s status page (synker ui there).`,
        );
    }
    section.append(p);
  }
  return section;
}

// ---------------------------------------------------------------- actions

/**
 * What each action last came to ("check:ID", "report:ID"): kept apart from the elements, so an outcome
 * outlives the redraws a check or a config change causes, and an answer that arrives after a redraw
 * lands beside the button now on the page.
 */
const outcomes = new Map();

function showOutcome(key, state, words) {
  outcomes.set(key, { state, words });
  for (const out of document.querySelectorAll('.outcome')) {
    if (out.dataset.action !== key) continue;
    out.dataset.state = state;
    out.textContent = words;
  }
}

/** A button for a safe action, with its outcome beside it in a live region. */
function actionButton(key, label, run) {
  const last = outcomes.get(key);
  const out = el(
    'span',
    { class: 'outcome', role: 'status', 'aria-live': 'polite', 'data-action': key, 'data-state': last?.state },
    last?.words ?? '',
  );
  const button = el('button', { type: 'button', 'data-action': key }, label);
  button.addEventListener('click', async () => {
    // aria-disabled, not disabled: a disabled button drops the keyboard focus.
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    showOutcome(key, 'pending', 'sending…');
    try {
      const [state, words] = await run();
      showOutcome(key, state, words);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        showOutcome(key, 'refused', `failed in this page (${err.message}): a bug in synker's page, please report it`);
        throw err;
      }
      showOutcome(key, 'refused', refusedWords(err));
    } finally {
      button.removeAttribute('aria-disabled');
    }
  });
  return el('span', { class: 'action' }, button, ' ', out);
}

function refusedWords(err) {
  const hint = err.hint ? ` ${printableText(err.hint)}` : '';
  return `refused: ${printableText(err.message)}${hint}`;
}

function checkNow(folderId) {
  return actionButton(`check:${folderId}`, 'Check now', async () => {
    await post(`/folders/${encodeURIComponent(folderId)}/check`);
    return ['running', 'running: this page updates when the check ends'];
  });
}

function sendReport(folderId) {
  return actionButton(`report:${folderId}`, 'Send the report again', async () => {
    await post(`/folders/${encodeURIComponent(folderId)}/report`);
    return ['queued', 'queued: the report goes out through the outbox'];
  });
}

// ---------------------------------------------------------------- the overview

function folderFacts(folder) {
  const facts = el('dl', { class: 'facts' });
  const row = (term, ...value) => facts.append(el('dt', {}, term), el('dd', {}, ...value));
  row('role', folder.role === 'backup' ? 'backup (this machine holds the copy)' : 'source (this machine holds the originals)');
  row(
    folder.peers.length === 1 ? 'peer' : 'peers',
    folder.peers.length ? folder.peers.flatMap((p, i) => (i ? [', ', name(p)] : [name(p)])) : 'none yet',
  );
  row('path', name(folder.path, 'code'));
  if (folder.role === 'backup') {
    row('last verified', folder.lastVerified ? [timeEl(folder.lastVerified.at), ` (${byWords(folder.lastVerified.by)})`] : 'never');
    row(
      'next check',
      folder.overdue ? 'overdue: runs as soon as the agent can' : folder.nextCheck ? timeEl(folder.nextCheck) : 'not scheduled',
    );
  }
  if (folder.problem?.hint) row('what to do', printableText(folder.problem.hint));
  return facts;
}

const BY_WORDS = {
  'scheduled-check': 'scheduled check',
  'scheduled-sync': 'scheduled sync',
  'manual-check': 'manual check',
  'manual-sync': 'manual sync',
};
const byWords = (by) => BY_WORDS[by] ?? 'scheduled';

/** A folder's verdict and facts; on the overview under a heading that links to the folder's page. */
function folderCard(folder, withHeading) {
  const link = el('a', { href: `#/folders/${encodeURIComponent(folder.id)}` }, name(folder.id));
  const card = el(
    'section',
    { class: `folder role-${folder.role}`, 'data-folder': folder.id, 'aria-label': `folder ${folder.id}` },
    withHeading ? el('h2', {}, link, ' ', verdictBadge(folder.verdict)) : el('p', { class: 'verdict-line' }, verdictBadge(folder.verdict)),
    el('p', { class: 'detail' }, verdictDetail(folder)),
    backupLines(folder),
    folderFacts(folder),
  );
  // Offered only where the agent can do it (docs/api.md, Actions): a backup folder, on an agent running its schedule.
  if (folder.actions?.check) card.append(el('p', { class: 'actions' }, checkNow(folder.id)));
  return card;
}

function outboxLine(outbox) {
  const waiting =
    outbox.waiting === 0 ? 'no message waiting' : [`${plural(outbox.waiting, 'e-mail')} waiting since `, timeEl(outbox.oldest)];
  const damaged =
    outbox.damaged === 0 ? '' : `, ${plural(outbox.damaged, 'damaged message file')} that will never be sent (synker outbox names them)`;
  return el('p', { class: 'outbox', 'data-waiting': outbox.waiting }, el('strong', {}, 'Outbox: '), waiting, damaged);
}

function renderOverview(status) {
  const main = document.getElementById('main');
  const title = el('h1', { id: 'title' }, 'Folders on ', name(status.device.name));
  const worst = status.folders.filter((f) => f.verdict !== 'complete').length;
  document.title = `synker on ${printablePath(status.device.name)}: ${worst === 0 ? 'all complete' : `${plural(worst, 'folder')} to look at`}`;
  const counts = new Map();
  for (const f of status.folders) counts.set(f.verdict, (counts.get(f.verdict) ?? 0) + 1);
  const summary =
    status.folders.length === 0
      ? 'No folders yet: add one with synker folder add.'
      : `${plural(status.folders.length, 'folder')}: ${[...counts].map(([v, n]) => `${formatCount(n)} ${VERDICT[v]?.word ?? v}`).join(', ')}.`;
  const parts = [
    title,
    el('p', { class: 'summary' }, summary),
    ...status.folders.map((f) => folderCard(f, true)),
    outboxLine(status.outbox),
  ];
  // The schedule checks backup folders: on a machine with only originals it has nothing to say.
  if (status.folders.some((f) => f.role === 'backup'))
    parts.push(
      el(
        'p',
        { class: 'muted' },
        `Checks: "${status.schedule.check}" ${status.schedule.timezone ?? '(local time)'}, e-mail ${status.schedule.email}.`,
      ),
    );
  main.replaceChildren(...parts);
}

// ---------------------------------------------------------------- one folder

function reportSection(folderId, report, actions) {
  const section = el('section', { class: 'report', 'aria-labelledby': 'report-title' }, el('h2', { id: 'report-title' }, 'The last check'));
  if (report === null) {
    section.append(el('p', {}, 'No check of this folder has been recorded yet.'));
    return section;
  }
  const by = report.by ? ` (${byWords(report.by)}${report.after === 'sync' ? ', as the sync left the backup' : ''})` : '';
  section.append(el('p', {}, timeEl(report.at), `: ${printableText(report.summary)}${by}`));
  if (report.error) {
    section.append(el('p', { class: 'error' }, `The check failed: ${printableText(report.error.message)}`));
    if (report.error.hint) section.append(el('p', {}, `What to do: ${printableText(report.error.hint)}`));
  }
  for (const c of report.categories) {
    const total = withSize(formatCount(c.count), c.bytes);
    const list = el(
      'ul',
      { class: 'items' },
      c.items.map((item) => {
        // A folder that stands for what is inside it (a whole folder missing, a moved folder) ends in "/", as in the terminal.
        const slash = item.files !== undefined ? '/' : '';
        return el(
          'li',
          {},
          name(item.path + slash, 'code'),
          // Where the backup has it (a move), when the agent says.
          item.otherPath ? [' → ', name(item.otherPath + slash, 'code')] : null,
          item.detail ? `: ${printableText(item.detail)}` : item.size !== undefined ? `: ${formatBytes(item.size)}` : '',
        );
      }),
    );
    section.append(
      el(
        'section',
        { class: 'category', 'data-category': c.category },
        el('h3', {}, printableText(c.words), el('span', { class: 'count' }, `: ${total}`)),
        c.failing === false ? el('p', { class: 'muted' }, 'listed only: these do not make the backup incomplete') : null,
        list,
        c.more > 0 ? el('p', { class: 'more' }, `and ${formatCount(c.more)} more`) : null,
      ),
    );
  }
  if (report.categories.length === 0 && report.status !== 'error')
    section.append(el('p', {}, 'No differences: the backup matched the source.'));
  // Offered only where it can work: e-mail set up and this folder's last report kept.
  if (actions?.report) section.append(el('p', { class: 'actions' }, sendReport(folderId)));
  return section;
}

const MARK = {
  complete: { word: 'complete', cls: 'ok' },
  differences: { word: 'incomplete', cls: 'warn' },
  error: { word: 'failed', cls: 'bad' },
};

/** One mark per check: a circle (complete), a square (incomplete), a cross (failed); each with its own title. */
function markShape(kind, x, y) {
  if (kind === 'complete') return svg('circle', { cx: x, cy: y, r: 5 });
  if (kind === 'differences') return svg('rect', { x: x - 4.5, y: y - 4.5, width: 9, height: 9 });
  return svg('path', { d: `M${x - 5} ${y - 5}L${x + 5} ${y + 5}M${x - 5} ${y + 5}L${x + 5} ${y - 5}` });
}

/** The charts' width: the page's, so their text stays the size of the page's text (at 360 px as on a desktop). */
function chartWidth() {
  return Math.max(280, Math.min(960, document.getElementById('main').clientWidth || 720));
}

/** Where a time falls across the charts, all of them on one scale: the lane labels on the left, then 90 days. */
function timeScale(days) {
  const width = chartWidth();
  const left = 78;
  const right = width - 10;
  const end = now();
  const start = end - days * DAY_MS;
  return { width, left, right, start, end, x: (iso) => left + ((Date.parse(iso) - start) / (end - start)) * (right - left) };
}

/** One lane per kind of result, so a day of many checks still shows each kind, and the row says the kind as well as the shape. */
const LANES = ['complete', 'differences', 'error'];
/** The checks a day's mark lists in its title; the rest are counted. */
const DAY_TITLE_MAX = 12;

/**
 * How each backup machine's line is told apart on a source's charts: a dash pattern and a point's shape (and a
 * colour, `series-N` in style.css, never alone). Four dashes and five shapes: twenty machines before a pair repeats.
 */
const SERIES_DASHES = [null, '8 4', '2 3', '10 3 2 3'];
const SERIES_SHAPES = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];
const SERIES_COLOURS = 4;

function seriesStyle(index) {
  return {
    dash: SERIES_DASHES[index % SERIES_DASHES.length],
    shape: SERIES_SHAPES[index % SERIES_SHAPES.length],
    cls: `series-${index % SERIES_COLOURS}`,
  };
}

/** A point of a line, in its series' shape, about `r` across from its middle. */
function pointShape(shape, x, y, r = 3.5) {
  const at = (dx, dy) => `${tenth(x + dx)} ${tenth(y + dy)}`;
  switch (shape) {
    case 'square':
      return svg('rect', { x: tenth(x - r * 0.85), y: tenth(y - r * 0.85), width: tenth(r * 1.7), height: tenth(r * 1.7) });
    case 'triangle':
      return svg('path', { d: `M${at(0, -r * 1.2)}L${at(r * 1.1, r * 0.8)}L${at(-r * 1.1, r * 0.8)}Z` });
    case 'triangle-down':
      return svg('path', { d: `M${at(0, r * 1.2)}L${at(r * 1.1, -r * 0.8)}L${at(-r * 1.1, -r * 0.8)}Z` });
    case 'diamond':
      return svg('path', { d: `M${at(0, -r * 1.3)}L${at(r * 1.3, 0)}L${at(0, r * 1.3)}L${at(-r * 1.3, 0)}Z` });
    default:
      return svg('circle', { cx: tenth(x), cy: tenth(y), r });
  }
}

/** A series' key: a piece of its line, in its dash, with its point's shape on it; beside its name, never instead of it. */
function seriesKey(style) {
  return svg(
    'svg',
    { viewBox: '0 0 32 12', class: `series-key ${style.cls}`, 'aria-hidden': 'true' },
    svg('path', { d: 'M1 6H31', class: 'series', ...(style.dash ? { 'stroke-dasharray': style.dash } : {}) }),
    withClass(pointShape(style.shape, 16, 6), 'point'),
  );
}

function withClass(node, cls) {
  node.setAttribute('class', cls);
  return node;
}

/**
 * The checks to draw, as series: on a backup folder one, unnamed (its own checks); on a source one per backup
 * machine that told it (the records' `device`), in the order the folder's backups are listed above, each named by
 * the name this machine gives it now (else the one its latest record has). A record without a device (written
 * before records named it) is a series of its own.
 */
function historySeries(checks, folder) {
  if (folder.role !== 'source') return [{ id: null, label: null, style: seriesStyle(0), checks }];
  const groups = new Map();
  for (const c of checks) {
    const id = c.device?.id ?? '';
    if (!groups.has(id)) groups.set(id, { id, label: null, checks: [] });
    const group = groups.get(id);
    group.checks.push(c);
    if (c.device) group.label = c.device.name ?? c.device.id;
  }
  const listed = (folder.backups ?? []).map((b) => b.device?.id);
  const rank = (id) => (listed.includes(id) ? listed.indexOf(id) : listed.length);
  const ordered = [...groups.values()].sort((a, b) => rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return ordered.map((g, i) => {
    const current = (folder.backups ?? []).find((b) => b.device?.id === g.id)?.device?.name;
    return {
      id: g.id,
      label: current ?? g.label ?? 'a backup machine not named (an older record)',
      style: seriesStyle(i),
      checks: g.checks,
    };
  });
}

/** "3 complete, 1 incomplete, 0 failed" of these checks. */
function tally(checks) {
  const counts = { complete: 0, differences: 0, error: 0 };
  for (const c of checks) counts[c.status] = (counts[c.status] ?? 0) + 1;
  return counts;
}
const tallyWords = (counts) =>
  `${formatCount(counts.complete)} complete, ${formatCount(counts.differences)} incomplete, ${formatCount(counts.error)} failed`;

/**
 * The marks of these checks: one lane per kind, one mark per day and kind (the number of checks beside it when
 * more than one: a day of many checks never piles its marks into one spot); its title lists them (up to
 * DAY_TITLE_MAX, then how many more).
 */
function marksChart(checks, scale, said) {
  const laneY = (kind) => 16 + LANES.indexOf(kind) * 22;
  const marks = svg('svg', {
    viewBox: `0 0 ${scale.width} ${LANES.length * 22 + 10}`,
    width: scale.width,
    class: 'chart marks',
    role: 'img',
    'aria-label': said,
  });
  for (const kind of LANES) {
    marks.append(svg('text', { x: 8, y: laneY(kind) + 4, class: 'label' }, MARK[kind].word));
    marks.append(svg('line', { x1: scale.left, y1: laneY(kind), x2: scale.right, y2: laneY(kind), class: 'axis' }));
  }
  const days = new Map();
  for (const c of checks) {
    const kind = MARK[c.status] ? c.status : 'error';
    const d = new Date(c.at);
    const day = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    const key = `${day}:${kind}`;
    if (!days.has(key)) days.set(key, { day, kind, checks: [] });
    days.get(key).checks.push(c);
  }
  for (const { day, kind, checks: those } of days.values()) {
    // The middle of the day (not before the chart's start, not after now).
    const mid = Math.min(scale.end, Math.max(scale.start, day + DAY_MS / 2));
    const x = scale.x(new Date(mid).toISOString());
    const shape = markShape(kind, x, laneY(kind));
    shape.setAttribute('class', `mark mark-${MARK[kind].cls}`);
    shape.setAttribute('data-status', kind);
    shape.setAttribute('data-count', those.length);
    const lines = those.slice(-DAY_TITLE_MAX).map((c) => {
      const who = c.device ? ` (told by ${printablePath(c.device.name ?? c.device.id ?? '')})` : '';
      const what =
        c.status === 'error'
          ? `failed${c.error ? `: ${printableText(c.error)}` : ''}`
          : c.status === 'complete'
            ? 'complete'
            : `incomplete: ${plural(c.differences ?? 0, 'difference')}, ${formatBytes(c.bytesMissing ?? 0)} to fix`;
      return `${fullTime(c.at)}: ${what}${c.by ? ` (${byWords(c.by)})` : ''}${who}`;
    });
    const more = those.length > DAY_TITLE_MAX ? [`and ${formatCount(those.length - DAY_TITLE_MAX)} earlier that day`] : [];
    const head = those.length > 1 ? [`${plural(those.length, 'check')} ${MARK[kind].word} that day:`] : [];
    shape.append(svg('title', {}, [...head, ...lines, ...more].join('\n')));
    marks.append(shape);
    // The count beside the mark: on its left near "now", where the right edge would cut it.
    if (those.length > 1) {
      const left = x + 40 > scale.width;
      marks.append(
        svg(
          'text',
          {
            x: left ? x - 8 : x + 8,
            y: laneY(kind) + 4,
            class: 'label mark-count',
            'text-anchor': left ? 'end' : 'start',
            'aria-hidden': 'true',
          },
          `×${formatCount(those.length)}`,
        ),
      );
    }
  }
  return marks;
}

function historySection(history, folder) {
  const scale = timeScale(history.days);
  const checks = history.checks.filter((c) => Date.parse(c.at) >= scale.start);
  const counts = tally(checks);
  const said = `${plural(checks.length, 'check')} in the last ${history.days} days: ${tallyWords(counts)}`;
  const series = historySeries(checks, folder);
  // A source: the marks of each backup machine apart, under its name and its line's key (one machine's failures
  // never sit in a row with another's checks); a backup folder, or a source no backup told yet: one strip.
  const strips = series.every((s) => s.label === null)
    ? [marksChart(checks, scale, said)]
    : series.map((s) => {
        const own = `${plural(s.checks.length, 'check')}: ${tallyWords(tally(s.checks))}`;
        return el(
          'div',
          { class: 'device-history', 'data-device': s.id },
          el('p', { class: 'device-name' }, seriesKey(s.style), ' ', name(s.label), `: ${own}`),
          marksChart(s.checks, scale, `${printablePath(s.label)}: ${own}`),
        );
      });
  const axisLabels = el(
    'p',
    { class: 'axis-labels', 'aria-hidden': 'true' },
    el('span', {}, `${history.days} days ago`),
    el('span', {}, 'now'),
  );
  const legend = el(
    'ul',
    { class: 'legend' },
    LANES.map((kind) => {
      const key = svg('svg', { viewBox: '0 0 12 12', class: `key mark-${MARK[kind].cls}`, 'aria-hidden': 'true' }, markShape(kind, 6, 6));
      return el('li', {}, key, ` ${MARK[kind].word}: ${formatCount(counts[kind])}`);
    }),
  );
  // A failed check compared nothing: it has no number of differences.
  const compared = series.map((s) => ({ ...s, checks: s.checks.filter((c) => c.status !== 'error' && c.differences !== null) }));
  return el(
    'section',
    { class: 'history', 'aria-labelledby': 'history-title' },
    el('h2', { id: 'history-title' }, `History: the last ${history.days} days`),
    el('p', {}, `${said}.`),
    ...strips,
    axisLabels,
    legend,
    lineChart('Differences after each check', compared, (c) => c.differences ?? 0, formatCount, scale),
    // bytesMissing (its v1 name) is every byte of the failing differences (missing, changed, moved…): "to fix", not "missing".
    lineChart('Bytes to fix after each check', compared, (c) => c.bytesMissing ?? 0, formatBytes, scale),
  );
}

/** A coordinate to a tenth of a pixel (a shorter path; not a number for people: those are units.js's). */
const tenth = (n) => Math.round(n * 10) / 10;

/** "at most 1,204, the last 0", or that no check compared the backup. */
function extremes(checks, value, format) {
  if (checks.length === 0) return 'no check compared the backup';
  return `at most ${format(Math.max(...checks.map(value)))}, the last ${format(value(checks.at(-1)))}`;
}

/**
 * Step lines of one number over the days of `scale`, one per series (a backup folder: one, unnamed; a source: one
 * per backup machine, each in its dash and point shape, named in the chart and in the key below it), on one
 * scale, with the highest value written on the axis.
 */
function lineChart(title, series, value, format, scale) {
  const H = 96;
  const named = series.some((s) => s.label !== null);
  const all = series.flatMap((s) => s.checks);
  const max = Math.max(0, ...all.map(value));
  const y = (v) => H - 12 - (max === 0 ? 0 : (v / max) * (H - 34));
  const said = named
    ? `${title}: ${series.map((s) => `${printablePath(s.label)}: ${extremes(s.checks, value, format)}`).join('; ')}`
    : `${title}: ${extremes(all, value, format)}`;
  const chart = svg('svg', {
    viewBox: `0 0 ${scale.width} ${H}`,
    width: scale.width,
    class: 'chart line',
    role: 'img',
    'aria-label': said,
  });
  chart.append(svg('line', { x1: scale.left, y1: y(0), x2: scale.right, y2: y(0), class: 'axis' }));
  chart.append(svg('text', { x: 8, y: y(0) + 4, class: 'label' }, format(0)));
  chart.append(svg('text', { x: 8, y: y(max) + 4, class: 'label' }, format(max)));
  // A point per check while they can be told apart; the lines alone beyond that.
  const withPoints = all.length <= 400;
  for (const s of series) {
    if (s.checks.length === 0) continue;
    const who = s.label === null ? '' : `${printablePath(s.label)}: `;
    const group = svg('g', {
      class: `series-line ${s.style.cls}`,
      ...(s.label === null ? {} : { 'data-device': s.id, 'aria-label': `${printablePath(s.label)}: ${extremes(s.checks, value, format)}` }),
    });
    if (s.label !== null) group.append(svg('title', {}, printablePath(s.label)));
    let d = '';
    for (const c of s.checks) {
      const cx = tenth(scale.x(c.at));
      const cy = tenth(y(value(c)));
      d += d === '' ? `M${cx} ${cy}` : `H${cx}V${cy}`;
    }
    d += `H${tenth(scale.right)}`;
    group.append(svg('path', { d, class: 'series', ...(s.style.dash && named ? { 'stroke-dasharray': s.style.dash } : {}) }));
    if (withPoints)
      for (const c of s.checks) {
        const point = withClass(
          named ? pointShape(s.style.shape, scale.x(c.at), y(value(c))) : svg('circle', { cx: scale.x(c.at), cy: y(value(c)), r: 3 }),
          'point',
        );
        point.append(svg('title', {}, `${fullTime(c.at)}: ${who}${format(value(c))}`));
        group.append(point);
      }
    chart.append(group);
  }
  const key = named
    ? el(
        'ul',
        { class: 'legend series-legend' },
        series.map((s) =>
          el(
            'li',
            { 'data-device': s.id },
            seriesKey(s.style),
            ' ',
            name(s.label),
            s.checks.length === 0 ? ': no check compared the backup' : '',
          ),
        ),
      )
    : null;
  return el('figure', { class: 'line-chart' }, el('figcaption', {}, said), chart, key);
}

async function renderFolder(folderId) {
  const main = document.getElementById('main');
  const id = encodeURIComponent(folderId);
  const [one, history] = await Promise.all([getJson(`/folders/${id}`), getJson(`/folders/${id}/history?days=${HISTORY_DAYS}`)]);
  document.title = `synker: ${printablePath(folderId)} ${VERDICT[one.folder.verdict]?.word ?? one.folder.verdict}`;
  const card = folderCard(one.folder, false);
  main.replaceChildren(
    el('p', { class: 'back' }, el('a', { href: '#/' }, '← all folders')),
    el('h1', { id: 'title' }, 'Folder ', name(one.folder.id)),
    card,
    one.folder.role === 'source' ? backupReportsSection(one.folder) : reportSection(one.folder.id, one.lastReport, one.folder.actions),
    historySection(history, one.folder),
  );
  drawnWidth = chartWidth();
}

// ---------------------------------------------------------------- routing, errors, live updates

function route() {
  const match = /^#\/folders\/(.+)$/.exec(location.hash);
  if (!match) return { folder: null };
  try {
    return { folder: decodeURIComponent(match[1]) };
  } catch {
    // A mangled address: the agent answers "no such folder" for it, as for any unknown ID.
    return { folder: match[1] };
  }
}

let rendering = Promise.resolve();

/** Draws the current route again from fresh data; one at a time, so a burst of events draws once or twice, never out of order. */
function refresh() {
  rendering = rendering.then(async () => {
    const { folder } = route();
    // A person on a button (keyboard or screen reader) stays on it across the redraw.
    const focused = document.activeElement?.closest?.('button[data-action]')?.dataset.action;
    try {
      if (folder === null) renderOverview(await getJson('/status'));
      else await renderFolder(folder);
      document.body.dataset.ready = 'true';
    } catch (err) {
      renderError(err);
    }
    if (focused) [...document.querySelectorAll('button[data-action]')].find((b) => b.dataset.action === focused)?.focus();
  });
  return rendering;
}

function renderError(err) {
  const main = document.getElementById('main');
  let words;
  if (!(err instanceof ApiError)) {
    words = `This page could not show what the agent answered (${err.message}): a bug in synker's page, please report it.`;
    // On the browser's console too, with its stack.
    setTimeout(() => {
      throw err;
    });
  } else if (err.status === 401) words = tokenWords();
  else if (err.status === 404) words = `Not found: ${printableText(err.message)}`;
  else if (err.status === 0)
    words = `The agent did not answer. Is it running? Start it with "synker agent" (or once for good: "synker service install"). This page reconnects by itself.`;
  else words = `The agent refused: ${printableText(err.message)}`;
  main.replaceChildren(
    el('h1', { id: 'title' }, 'synker'),
    el('p', { class: 'error', role: 'alert' }, words),
    el('p', {}, el('a', { href: '#/' }, 'all folders')),
  );
}

function setLive(state, words) {
  const live = document.getElementById('live');
  live.dataset.state = state;
  live.textContent = words;
}

/** What to do about a 401: this page has no token, or one the agent no longer takes. */
function tokenWords() {
  return pageToken() === null
    ? 'This page needs the agent\'s token. Open it with "synker ui" (it opens the address with the token), or run "synker ui --no-open" and open the address it prints.'
    : 'This page\'s key changed: the agent made a new token (its web-token file was deleted and it restarted), and this page still has the old one. Open the page again with "synker ui".';
}

/** The stream's event names to what they do. */
const EVENT_HANDLERS = {
  'check-ended': (text) => {
    let data = {};
    try {
      data = JSON.parse(text);
    } catch {}
    // The check this page started has ended: said beside its button, which the redraw keeps.
    const key = `check:${data.folder}`;
    const mine = outcomes.get(key)?.state === 'running';
    refresh().then(() => {
      if (mine) showOutcome(key, 'finished', `finished: ${MARK[data.status]?.word ?? data.status}`);
    });
  },
  status: () => refresh(),
};

/** Splits server-sent events (text/event-stream) as they arrive; calls `onEvent(name, data)` for each whole one. */
function eventParser(onEvent) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    for (let end = buffer.search(/\r?\n\r?\n/); end !== -1; end = buffer.search(/\r?\n\r?\n/)) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) onEvent(name, data.join('\n'));
    }
  };
}

const RECONNECT_MS = 3000;

/**
 * The events of the agent, read with fetch() (an EventSource cannot send the Authorization header) and
 * reopened RECONNECT_MS after the stream ends or the agent does not answer (it restarts); a 401 stops it.
 */
let listening = false;
async function listen() {
  listening = true;
  let lost = false;
  for (;;) {
    let res = null;
    try {
      res = await ask('/events', { headers: { Accept: 'text/event-stream' } });
    } catch {}
    if (res?.status === 401) {
      setLive('lost', "not connected: this page's key is not the agent's");
      renderError(new ApiError(401, await res.json().catch(() => null)));
      listening = false;
      return;
    }
    if (res?.ok && res.body) {
      setLive('live', 'live: updates when a check ends');
      // What changed while the page was not listening.
      if (lost) refresh();
      lost = false;
      const parse = eventParser((name, data) => EVENT_HANDLERS[name]?.(data));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(value);
        }
      } catch {}
    } else await res?.body?.cancel().catch(() => {});
    lost = true;
    setLive('lost', 'connection to the agent lost: reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

window.addEventListener('hashchange', () => {
  // `synker ui` opened in this very tab (a new token, after the agent renewed it): taken, and the stream reopened if it had stopped.
  if (takeTokenFromAddress() && !listening) void listen();
  refresh().then(() => document.getElementById('main').focus({ preventScroll: false }));
});
let drawnWidth = 0;
window.addEventListener('resize', () => {
  // The charts are drawn at the page's width: again when it changed by more than a little (a phone turned).
  if (route().folder !== null && Math.abs(chartWidth() - drawnWidth) > 40) refresh();
});
refresh();
listen();
setInterval(tick, 30_000);
