// thread.mjs - the dispute, ruling and thread in an item's popup (issue 19),
// two users at once in headless Chromium: B disputes A's flight with a
// reason (API); the supervisor opens it in the page, reads the reason,
// writes a message and upholds the dispute from the page; A, with the
// flight's popup open, sees the message and the ruling arrive live, each
// text in its own direction. Screenshots into $1 when given.
import path from 'node:path';
import fs from 'node:fs';
import { startServer, tmpdir, login, api, loadPlaywright, waitFor, viewerPage } from './harness.mjs';

const { chromium } = await loadPlaywright();
const out = process.argv[2];
if (out) fs.mkdirSync(out, { recursive: true });
const shot = (page, name) => (out ? page.screenshot({ path: path.join(out, name) }) : null);
const dir = tmpdir();
const srv = await startServer({ db: path.join(dir, 'thread.db') });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
let failed = 0;
const check = (ok, what) => { console.log((ok ? 'ok - ' : 'FAIL - ') + what); if (!ok) failed++; };
const errors = [];

const open = (user) => viewerPage(browser, srv.url, user, errors);

try {
  const a = await login(srv.url, 'liaison-a');
  const b = await login(srv.url, 'liaison-b');
  const made = await api(srv.url, a, 'POST', '/collections/movements/items', {
    type: 'Feature', geometry: { type: 'LineString', coordinates: [[35.7, 32.75], [35.9, 32.85]] },
    properties: { title: 'Relief flight', type: 'air', corridor_width_m: 1000, status: 'notified' },
  });
  const id = made.json.id, key = `movements/${id}`;
  const reason = 'Route crosses our closed airspace; re-route south of 32.80N — المسار مغلق';
  const d = await api(srv.url, b, 'POST', `/collections/movements/items/${id}/ack`, { decision: 'dispute', comment: reason },
    { 'Content-Type': 'application/json', 'If-Match': '"1"' });
  check(d.status === 200, 'B disputes A\'s flight with a reason');

  const pa = await open('liaison-a');
  await pa.click(`#list li[data-key="${key}"]`);
  await pa.waitForSelector('.leaflet-popup .pop .dispute');
  check((await pa.textContent('.leaflet-popup .dispute')).includes('re-route south of 32.80N'), 'A\'s popup shows B\'s reason for the dispute');

  const ps = await open('supervisor');
  await ps.click(`#list li[data-key="${key}"]`);
  await ps.waitForSelector('.leaflet-popup .pop .dispute');
  check((await ps.textContent('.leaflet-popup .dispute')).includes(reason), 'the supervisor\'s popup shows the reason in full');
  check(await ps.isVisible('.leaflet-popup .rule button[data-d=uphold]'), 'the supervisor is offered Uphold and Overrule');
  check((await ps.$$('.leaflet-popup .actions button:has-text("Acknowledge")')).length === 0,
    'and not Acknowledge, which would leave the item disputed (issue 19)');
  await shot(ps, 'thread-supervisor-disputed.png');
  const note = 'שלום: please re-route as B asks';
  await ps.fill('.leaflet-popup .compose textarea', note);
  await ps.click('.leaflet-popup .compose button');
  await ps.waitForSelector(`.leaflet-popup .msg:has-text("re-route as B asks")`);
  check(true, 'the supervisor writes on the thread from the page');
  await waitFor(async () => (await pa.$$(`.leaflet-popup .msg:has-text("re-route as B asks")`)).length > 0, 20000, 'the message at A, live');
  check(true, 'A sees the message arrive live, without reloading');
  /* polled: a live redraw may replace the popup's thread between two reads */
  let dirAuto = '';
  await waitFor(async () => {
    dirAuto = await pa.$eval('.leaflet-popup .msg div[dir=auto]', (el) => getComputedStyle(el).direction).catch(() => '');
    return dirAuto === 'rtl';
  }, 5000, 'the Hebrew message right to left').catch(() => {});
  check(dirAuto === 'rtl', `a message starting in Hebrew is shown right to left (dir=auto): ${dirAuto}`);

  await ps.fill('.leaflet-popup .rule input', 'The airspace was closed at 14:00: the route must change');
  await ps.click('.leaflet-popup .rule button[data-d=uphold]');
  await ps.waitForSelector('.leaflet-popup .ruling');
  check((await ps.textContent('.leaflet-popup .ruling')).includes('upheld'), 'the supervisor rules from the page: upheld');
  await waitFor(async () => (await pa.$$('.leaflet-popup .ruling')).length > 0, 20000, 'the ruling at A, live');
  check((await pa.textContent('.leaflet-popup .ruling')).includes('must change'), 'A, the owner, sees the ruling live');
  await shot(pa, 'thread-owner-ruled.png');
  // an answer that moves no status (the supervisor disputes the disputed
  // version too): the flight stays on A's map, and its popup shows it live
  const sup = await login(srv.url, 'supervisor');
  const d2 = await api(srv.url, sup, 'POST', `/collections/movements/items/${id}/ack`, { decision: 'dispute', comment: 'Also too low over the city' },
    { 'Content-Type': 'application/json', 'If-Match': '"2"' });
  check(d2.status === 200, 'the supervisor disputes the same version (no new version)');
  await waitFor(async () => (await pa.textContent('.leaflet-popup .dispute').catch(() => '')).includes('too low over the city'), 20000, 'the second dispute at A, live');
  check(true, 'A sees the newest dispute reason live');
  check(await pa.evaluate((k) => !!document.querySelector(`#list li[data-key="${k}"]`), key), 'the flight is still in A\'s list (an answer is no version)');
  const item = await api(srv.url, a, 'GET', `/collections/movements/items/${id}`);
  check(item.json.properties.status === 'disputed' && item.json.properties.ruling.decision === 'uphold', 'the flight stays disputed, its ruling with it');
  check(errors.length === 0, 'no page errors' + (errors.length ? ': ' + errors.join('; ') : ''));
} catch (e) {
  console.log('FAIL - ' + e.message);
  failed++;
} finally {
  await browser.close();
  await srv.stop();
}
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
