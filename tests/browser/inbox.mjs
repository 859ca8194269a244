// inbox.mjs - "waiting for me" in the page header (issue 19), live: A's
// inbox count goes up when B notifies a movement A must answer, and down
// when A answers it; the supervisor's header shows it overdue once the
// test clock passes its deadline, and the panel names it by title and
// party; the popup says late notice. The wall marks it overdue (first in
// its list of what waits) and lets go once it is answered. The supervisor
// narrows the overdue entries by how late they are, as the API's
// overdue_min_s/overdue_max_s do. A's own map marks the convoy as the tiles
// do: late notice (purple beads, a clock on its symbol) as soon as it
// arrives, overdue (amber dashes, a ring) by the live record, without a
// reload, and no longer once answered; after a reload the items still
// overdue are marked. The demo's urgent medical evacuation flight shows
// urgent and its reason in its popup. Screenshots into $1 when given.
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, tmpdir, login, api, loadPlaywright, waitFor, viewerPage, BIN } from './harness.mjs';

const { chromium } = await loadPlaywright();
const out = process.argv[2];
if (out) fs.mkdirSync(out, { recursive: true });
const shot = (page, name) => (out ? page.screenshot({ path: path.join(out, name) }) : null);
const dir = tmpdir();
const db = path.join(dir, 'inbox.db');
const srv = await startServer({ db, env: { FUSIONMAP_TEST_CLOCK: '1' } });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
let failed = 0;
const check = (ok, what) => { console.log((ok ? 'ok - ' : 'FAIL - ') + what); if (!ok) failed++; };
const errors = [];

/* The viewer logged in (the harness), its inbox count drawn. */
async function open(user) {
  const page = await viewerPage(browser, srv.url, user, errors);
  await page.waitForFunction(() => /^\d+$/.test((document.getElementById('inbox-count') || {}).textContent || ''));
  return page;
}
const count = (page) => page.$eval('#inbox-count', (el) => Number(el.textContent));
/* The marks an item's layer draws on the viewer's own map: {late, overdue}
 * (a path and, on its symbol, the badge or the ring), or null. */
const marksOn = (page, k) => page.evaluate((k) => {
  const l = window.fmState.layers.get(k);
  if (!l) return null;
  const paths = [], icons = [];
  const walk = (x) => {
    if (x.eachLayer) x.eachLayer(walk);
    else if (x._path) paths.push(x._path.getAttribute('class') || '');
    else if (x._icon) icons.push(x._icon);
  };
  walk(l);
  return {
    late: paths.some((c) => /fm-late-mark/.test(c)) && (!icons.length || icons.some((i) => i.querySelector('.fm-late-badge'))),
    overdue: paths.some((c) => /fm-overdue-mark/.test(c)) && (!icons.length || icons.some((i) => i.querySelector('.fm-overdue-ring'))),
  };
}, k);

try {
  const b = await login(srv.url, 'liaison-b');
  const a = await login(srv.url, 'liaison-a');
  const admin = await login(srv.url, 'admin');
  const pa = await open('liaison-a');
  const ps = await open('supervisor');
  const pv = await viewerPage(browser, srv.url, 'viewer', errors);
  check((await pv.$$('#inbox-btn')).length === 0, 'the viewer has no inbox in its header (it answers nothing)');
  const wallTok = execFileSync(BIN, ['token', 'add', 'viewer', '--db', db]).toString().trim();
  const pw = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  pw.on('pageerror', (e) => errors.push('wall: ' + e.message));
  await pw.goto(`${srv.url}/wall?token=${wallTok}`);
  await pw.waitForSelector('#conn.live');
  const wallRow = (title) => pw.evaluate((t) => {
    const li = [...document.querySelectorAll('#open li')].find((x) => x.textContent.includes(t));
    const rows = [...document.querySelectorAll('#open li')];
    /* first: only overdue rows come before it */
    return li ? { overdue: li.classList.contains('overdue'), text: li.textContent, first: rows.slice(0, rows.indexOf(li)).every((x) => x.classList.contains('overdue')) } : null;
  }, title);

  const before = await count(pa);
  const server = (await api(srv.url, a, 'GET', '/inbox')).json.counts.total;
  check(before === server, `A's header shows the server's count (${before})`);

  // B notifies a movement 10 minutes before it starts: late (the rule: 48 h)
  const from = new Date(Date.now() + 10 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  const made = await api(srv.url, b, 'POST', '/collections/movements/items', {
    type: 'Feature', geometry: { type: 'LineString', coordinates: [[35.6, 32.7], [35.7, 32.72]] },
    properties: { title: 'Night convoy K-4', type: 'ground', status: 'notified', valid_from: from },
  });
  check(made.status === 201 && made.json.properties.late_notice === true, 'B notifies a movement with late notice (API)');
  const id = made.json.id, key = `movements/${id}`;
  await waitFor(async () => ((await marksOn(pa, key)) || {}).late, 20000, 'the late mark on A\'s map');
  const m0 = await marksOn(pa, key);
  check(m0.late && !m0.overdue, 'A\'s map marks the new convoy late notice (purple beads, a clock on its symbol), live; not overdue');
  await waitFor(async () => (await count(pa)) === before + 1, 20000, 'A\'s count up by one');
  check(true, `A's inbox count goes up by one when B notifies, live (${before} -> ${before + 1})`);
  check(await pa.evaluate(() => window.fmInboxAlerts) === 1, 'A is alerted once (tone, notification where allowed) for the new item to answer');

  await pa.click('#inbox-btn');
  await pa.waitForSelector('#inbox-panel ul[data-kind=to_answer] li');
  const text = await pa.textContent('#inbox-panel ul[data-kind=to_answer]');
  check(text.includes('Night convoy K-4') && text.includes('late notice') && !new RegExp(`\\b${id}\\b`).test(text.replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, '')), 'the panel lists it by title, with late notice, no internal id');
  await shot(pa, 'inbox-a-panel.png');
  await pa.click('#inbox-alerts');
  check((await pa.textContent('#inbox-alerts')) === 'Alerts off' && await pa.evaluate(() => localStorage.getItem('fm-inbox-alerts')) === 'off', 'A turns the alerts off from the panel (kept)');
  await pa.click('#inbox-btn');
  const quiet = await api(srv.url, b, 'POST', '/collections/movements/items', {
    type: 'Feature', geometry: { type: 'LineString', coordinates: [[35.61, 32.71], [35.7, 32.73]] },
    properties: { title: 'Water truck W-2', type: 'ground', status: 'notified' },
  });
  await waitFor(async () => (await count(pa)) === before + 2, 20000, 'A\'s count up again');
  check(quiet.status === 201 && await pa.evaluate(() => window.fmInboxAlerts) === 1, 'with the alerts off, a new item to answer counts but rings nothing');

  // the test clock: past the 12 h to answer (and the start): overdue
  await pa.evaluate(() => { window.fmNotReloaded = true; });
  const adv = await api(srv.url, admin, 'POST', '/rules/clock', { advance_s: 13 * 3600 }, { 'Content-Type': 'application/json' });
  check(adv.status === 200 && adv.json.overdue_marked >= 1, 'the admin moves the test clock 13 h ahead: overdue marked');
  await waitFor(async () => (await ps.$eval('#inbox-overdue', (el) => el.hidden ? '' : el.textContent)).includes('overdue'), 20000, 'overdue at the supervisor');
  check(true, 'the supervisor\'s header shows the overdue count, live');
  await waitFor(async () => ((await marksOn(pa, key)) || {}).overdue, 20000, 'the overdue mark on A\'s map');
  const m1 = await marksOn(pa, key);
  check(m1.overdue && m1.late && await pa.evaluate(() => window.fmNotReloaded === true),
    'A\'s map marks the convoy overdue (amber dashes, a ring on its symbol) by the live record, without a reload, and still late');
  check((await pa.textContent(`#list li[data-key="${key}"]`)).includes('overdue'), 'its row in A\'s list says overdue');
  await shot(pa, 'viewer-a-marks.png');
  await ps.click('#inbox-btn');
  await ps.waitForSelector('#inbox-panel ul[data-kind=overdue] li');
  const od = await ps.textContent('#inbox-panel ul[data-kind=overdue]');
  check(od.includes('Night convoy K-4') && od.includes('Side B'), 'the supervisor\'s panel names the overdue convoy and its party');
  await shot(ps, 'inbox-supervisor-overdue.png');

  // by how late: the convoy is late by about 12 h 50 min
  const sup = await login(srv.url, 'supervisor');
  const odList = () => ps.$$eval('#inbox-panel ul[data-kind=overdue] li', (l) => l.map((x) => x.textContent));
  const choose = async (v) => { await ps.selectOption('#inbox-od-age', v); await ps.waitForFunction((val) => (document.getElementById('inbox-od-age') || {}).value === val, v); };
  const convoyLine = (await odList()).find((t) => t.includes('Night convoy K-4')) || '';
  check(/late 12 h 5\d min/.test(convoyLine), `an overdue row says how late it is (${convoyLine})`);
  await choose('24h');
  const l24 = await odList();
  const api24 = (await api(srv.url, sup, 'GET', '/inbox?overdue_min_s=86400')).json;
  check(!l24.some((t) => t.includes('Night convoy K-4')) && l24.length === api24.overdue.length &&
    (await ps.textContent('#inbox-od-hidden')).includes(`${api24.overdue_filter.hidden} more overdue`),
  `"late 24 h or more" hides the convoy; the page lists what /inbox?overdue_min_s=86400 does (${l24.length}, ${api24.overdue_filter.hidden} hidden)`);
  check(await ps.evaluate(() => localStorage.getItem('fm-inbox-overdue-age')) === '24h' &&
    (await ps.$eval('#inbox-overdue', (el) => parseInt(el.textContent, 10))) === (api24.counts.overdue + api24.overdue_filter.hidden),
  'the choice is kept, and the header still counts every overdue item');
  await shot(ps, 'inbox-supervisor-overdue-24h.png');
  await choose('6h');
  const l6 = await odList();
  const api6 = (await api(srv.url, sup, 'GET', '/inbox?overdue_min_s=21600')).json;
  check(l6.some((t) => t.includes('Night convoy K-4')) && l6.length === api6.overdue.length, `"late 6 h or more" lists it, as the API (${l6.length})`);
  await choose('lt1h');
  const api1 = (await api(srv.url, sup, 'GET', '/inbox?overdue_max_s=3599')).json;
  check((await odList()).length === api1.overdue.length && !(await odList()).some((t) => t.includes('Night convoy K-4')), `"late under 1 h": as /inbox?overdue_max_s=3599 (${api1.overdue.length})`);
  await choose('all');
  check((await odList()).length === (await api(srv.url, sup, 'GET', '/inbox')).json.overdue.length, 'and "all" lists them all again');
  await ps.click('#inbox-btn');
  await waitFor(async () => ((await wallRow('Night convoy K-4')) || {}).overdue, 20000, 'overdue on the wall');
  const wr = await wallRow('Night convoy K-4');
  check(wr.overdue && wr.first && /overdue/i.test(wr.text) && /late notice/i.test(wr.text),
    `the wall marks the convoy overdue and late, live, among the first of what waits (${wr.text})`);
  await shot(pw, 'inbox-wall-overdue.png');

  // A opens the convoy: the popup says late notice and overdue
  await pa.click(`#list li[data-key="${key}"]`);
  await pa.waitForSelector('.leaflet-popup .pop');
  const pop = await pa.textContent('.leaflet-popup .pop');
  check(pop.includes('late notice') && pop.includes('overdue'), 'A\'s popup says late notice and overdue');
  await shot(pa, 'inbox-a-popup.png');
  const withOverdue = await count(pa);
  const supOverdue = () => ps.$eval('#inbox-overdue', (el) => (el.hidden ? 0 : parseInt(el.textContent, 10)));
  const supBefore = await supOverdue();

  // A answers from the page: the count goes down
  await pa.click('.leaflet-popup .actions button:has-text("Acknowledge")');
  await pa.waitForSelector('.modal .statement', { timeout: 10000 });
  await pa.click('.modal button:has-text("Sign and send")');
  await pa.waitForSelector('#toast:has-text("Acknowledged")', { timeout: 10000 });
  // both of its counts go (to answer, overdue): each may come by its own
  // live event, so the count may pass through one less first
  await waitFor(async () => (await count(pa)) < withOverdue, 20000, 'A\'s count down');
  const after = await waitFor(async () => {
    const n = await count(pa);
    return n <= withOverdue - 2 ? n : 0;
  }, 5000, 'A\'s count down by both').catch(() => count(pa));
  check(after <= withOverdue - 2, `A's count goes down when A answers (to answer and overdue: ${withOverdue} -> ${after})`);
  await waitFor(async () => !((await marksOn(pa, key)) || {}).overdue, 20000, 'the overdue mark goes');
  const m2 = await marksOn(pa, key);
  check(!m2.overdue && m2.late, 'once answered A\'s map no longer marks it overdue (the new version is not), live; late notice stays');
  await waitFor(async () => (await supOverdue()) === supBefore - 1, 20000, 'the supervisor\'s overdue down');
  check(true, `the supervisor's overdue count goes down by one, live (${supBefore} -> ${supBefore - 1})`);
  await ps.click('#inbox-btn');
  await ps.waitForSelector('#inbox-panel');
  check(!(await ps.textContent('#inbox-panel')).includes('Night convoy K-4'), 'and the convoy is off the supervisor\'s panel');
  await shot(ps, 'inbox-supervisor-after.png');
  await waitFor(async () => !((await wallRow('Night convoy K-4')) || {}).overdue, 20000, 'the wall lets go');
  check(true, 'the wall no longer marks the answered convoy overdue');
  await pw.reload();
  await pw.waitForSelector('#conn.live');
  await waitFor(async () => (await pw.$$('#open li')).length > 0, 20000, 'the wall reloaded');
  const marked = await pw.$$eval('#open li.overdue', (l) => l.length);
  check(!((await wallRow('Night convoy K-4')) || {}).overdue && marked > 0,
    `after a reload the convoy is not marked, and the items still overdue are (${marked}: the lists say it)`);
  await shot(pa, 'inbox-a-after.png');

  // A reloads: the marks come with the items (the lists say overdue and late notice)
  await pa.reload();
  await pa.waitForSelector('#list li[data-key]');
  const keyOfTitle = (t) => pa.evaluate((t) => { for (const [k, f] of window.fmState.items) if (f.properties.title === t) return k; return null; }, t);
  const water = await keyOfTitle('Water truck W-2'), medevac = await keyOfTitle('Medical evacuation flight');
  const [mw, mk, mm] = [await marksOn(pa, water), await marksOn(pa, key), await marksOn(pa, medevac)];
  check(mw && mw.overdue && mk && !mk.overdue && mk.late && mm && mm.late,
    `after a reload A's map marks the unanswered water truck overdue, the answered convoy only late, the demo's medical evacuation flight late (${JSON.stringify([mw, mk, mm])})`);
  await pa.click(`#list li[data-key="${medevac}"]`);
  await pa.waitForSelector('.leaflet-popup .pop');
  const mpop = await pa.textContent('.leaflet-popup .pop');
  check(/urgent/i.test(mpop) && mpop.includes('Casualties at the southern buffer; evacuation cannot wait for the notice period') && mpop.includes('late notice'),
    'the medical evacuation flight\'s popup says urgent, why, and late notice');
  await shot(pa, 'viewer-a-urgent.png');
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
