/**
 * The status page's files (src/web/assets) keep the rules the agent's CSP and
 * the project rely on: no inline script or style (the CSP forbids them),
 * nothing from another origin, names never parsed as markup, the token never
 * stored, and sizes, counts, ages and escapes by src/base's own modules,
 * which the browser loads as they are compiled (so they must import nothing).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (file: string): string => readFileSync(`${ROOT}${file}`, 'utf8');
const app = read('src/web/assets/app.js');
const html = read('src/web/assets/index.html');
const css = read('src/web/assets/style.css');
/** The code of app.js without its comments (they may name what the code must not do). */
const code = app.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

test('app.js imports only the compiled src/base modules the agent serves, and those import nothing', () => {
  const imports = [...code.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(imports, ['./printable.js', './units.js']);
  assert.equal(/\bimport\s*\(/.test(code), false, 'no dynamic import');
  for (const module of ['src/base/units.ts', 'src/base/printable.ts'])
    assert.doesNotMatch(read(module), /^import /m, `${module} is loaded by the browser as compiled: it may import nothing`);
});

test('app.js puts data into the page as text only, keeps the token in its tab only, formats nothing itself', () => {
  const forbidden: Array<[string, RegExp]> = [
    ['markup from a string', /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser)\b/],
    ['code from a string', /\beval\s*\(|\bnew Function\b|\bsetTimeout\s*\(\s*['"`]/],
    ['an inline style or handler (the CSP refuses them)', /setAttribute\(\s*['"](style|on\w+)['"]|\.style\s*=|\.on(click|error|load)\s*=/],
    // A cookie goes to every port of 127.0.0.1; localStorage and IndexedDB outlive the tab.
    ['the token in a cookie or in lasting storage', /\b(localStorage|indexedDB|document\.cookie|cookieStore)\b/],
    ['a number rounded for people on the spot: units.js', /\.toFixed\(|\/ ?1024\b|toLocaleString\(\s*\)/],
  ];
  const found = forbidden.filter(([, pattern]) => pattern.test(code)).map(([what]) => what);
  assert.deepEqual(found, []);
  // sessionStorage (this origin's, so this port's, and this tab's): the token under its one key, nothing else.
  const uses = [...code.matchAll(/\bsessionStorage\b[^;]*/g)].map((m) => m[0]);
  assert.ok(uses.length > 0, 'the page keeps its token for the tab');
  for (const use of uses) assert.match(use, /^sessionStorage\.(getItem|setItem)\(TOKEN_KEY[,)]/, use);
});

test('the page loads nothing from another origin and has no inline script or style', () => {
  for (const [file, text] of [
    ['app.js', code],
    ['index.html', html],
    ['style.css', css],
  ] as const) {
    const urls = [...text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)]+/gi)].map((m) => m[0]);
    assert.deepEqual(
      urls.filter((u) => u !== 'http://www.w3.org/2000/svg'),
      [],
      `${file} names no other origin`,
    );
  }
  assert.doesNotMatch(css, /@import|url\(/, 'style.css loads nothing');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, /type="module" src="app\.js"/);
  assert.equal(scripts[0]![2], '', 'no inline script');
  assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
});
