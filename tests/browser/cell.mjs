// cell.mjs - the cell at work, three users at once in headless Chromium
// (issue 19): A, B and the supervisor each have the viewer open. A notifies
// a flight across B's closed airspace; B disputes it from the page with a
// reason; A sees the reason live (item panel, side list, popup, the
// panel's history) and answers in the thread; the supervisor, whose popup
// offers the ruling and not Acknowledge, overrules from the item panel and
// resolves the flight's conflict with a comment; all three see the outcome
// without reloading. The wall (a fourth page, a viewer's token) lists the
// dispute with its reason and who disputed whose item, keeps the flight on
// its map while the thread talks, shows the cell's message to all in its
// ticker, and drops the dispute once it is overruled. The panel and the
// wall name items and parties, never internal ids. Screenshots into $1 when given. FM_WEB_DIR serves another web
// folder (to see these checks fail against an older viewer).
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, tmpdir, login, api, loadPlaywright, check, finish, viewerPage, BIN } from './harness.mjs';

const { chromium } = await loadPlaywright();
const out = process.argv[2];
if (out) fs.mkdirSync(out, { recursive: true });
const shot = (page, name) => (out ? page.screenshot({ path: path.join(out, name) }) : null);
const dir = tmpdir();
const db = path.join(dir, 'cell.db');
const srv = await startServer({ db, args: process.env.FM_WEB_DIR ? ['--web', process.env.FM_WEB_DIR] : [] });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
const errors = [];

/* in the page: does an element of selector s hold text t */
const fmHas = () => { window.fmHas = (s, t) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)); };
async function open(user) {
  const page = await viewerPage(browser, srv.url, user, errors, { width: 1366, height: 900 });
  await page.evaluate(fmHas);
  await page.waitForSelector('#conn.live');
  /* gone if the page reloads: "without reloading" is checked by it */
  await page.evaluate(() => { window.fmNoReload = true; });
  return page;
}
/* polls fn in the page until it is truthy or ms pass: true or false */
const within = (page, fn, arg, ms = 15000) => page.waitForFunction(fn, arg, { timeout: ms, polling: 50 }).then(() => true, () => false);
const text = (page, sel) => page.evaluate((s) => [...document.querySelectorAll(s)].map((e) => e.textContent).join(' | '), sel);

try {
  const a = await login(srv.url, 'liaison-a'), b = await login(srv.url, 'liaison-b');
  // B's closed airspace, which A's flight will cross
  const z = await api(srv.url, b, 'POST', '/collections/zones/items', {
    type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[35.78, 32.76], [35.84, 32.76], [35.84, 32.84], [35.78, 32.84], [35.78, 32.76]]] },
    properties: { title: 'Closed airspace B-2', type: 'restricted', status: 'proposed', altitude_floor_m: 0, altitude_ceiling_m: 5000 },
  });
  check('B proposes its closed airspace', z.status === 201, z.text.slice(0, 200));

  const [pa, pb, ps] = [await open('liaison-a'), await open('liaison-b'), await open('supervisor')];
  // the wall, as the room sees it
  const tok = execFileSync(BIN, ['token', 'add', 'viewer', '--db', db]).toString().trim();
  const pw = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  pw.on('pageerror', (e) => errors.push('wall: ' + e.message));
  await pw.addInitScript(fmHas);
  await pw.goto(`${srv.url}/wall?token=${tok}`);
  await pw.waitForSelector('#conn.live');
  await pw.evaluate(() => { window.fmNoReload = true; });

  // ---- A notifies; the others see it live ------------------------------------
  const made = await api(srv.url, a, 'POST', '/collections/movements/items', {
    type: 'Feature', geometry: { type: 'LineString', coordinates: [[35.7, 32.75], [35.9, 32.85]] },
    properties: { title: 'Relief flight R-12', type: 'air', corridor_width_m: 1000, status: 'notified' },
  });
  check('A notifies the relief flight', made.status === 201, made.text.slice(0, 200));
  const id = made.json.id, key = `movements/${id}`;
  const row = `#list li[data-key="${key}"]`;
  for (const [p, who] of [[pb, 'B'], [ps, 'the supervisor']])
    check(`${who} sees the flight arrive live in the list`, await within(p, (s) => !!document.querySelector(s), row));

  // ---- the item panel: opened from the popup ---------------------------------
  /* every step may find nothing (an older viewer): the checks then fail one by one */
  const tryClick = (page, sel) => page.click(sel, { timeout: 5000 }).catch(() => {});
  async function openPanel(page) {
    await tryClick(page, row);
    await tryClick(page, '.leaflet-popup button.details');
    return within(page, () => { const p = document.querySelector('#panel'); return p && !p.hidden && p.querySelector('.ver'); }, null);
  }
  check('A opens the flight\'s item panel from its popup', await openPanel(pa));
  check('the panel is titled by the item and names its party',
    (await text(pa, '#panel h2')) === 'Relief flight R-12' && (await text(pa, '#panel .sub')).includes('Side A'), await text(pa, '#panel .sub'));
  check('the panel lists the first version', (await text(pa, '#panel .ver')).includes('v1 created'), await text(pa, '#panel .ver'));
  check('the panel lists the conflict with B\'s airspace by its title and party',
    await within(pa, () => window.fmHas('#panel .cf.open', '“Closed airspace B-2” of Side B'), null), await text(pa, '#panel .cf'));
  check('B opens the panel too', await openPanel(pb));
  check('the supervisor opens the panel too', await openPanel(ps));

  // ---- B disputes from the page with a reason -------------------------------
  const reason = 'Route crosses our closed airspace B-2; re-route south of 32.75N';
  await tryClick(pb, row);
  await tryClick(pb, '.leaflet-popup button:has-text("Dispute")');
  await pb.fill('.modal textarea', reason, { timeout: 5000 }).catch(() => {});
  await tryClick(pb, '.modal [data-act=ok]');
  await tryClick(pb, '.modal button:has-text("Sign and send")');
  check('B\'s page says the dispute is sent', await within(pb, () => (document.querySelector('#toast')?.textContent || '') === 'Disputed.', null));

  // ---- A sees the reason live, everywhere the item is -------------------------
  check('A\'s panel shows B\'s reason live', await within(pa, (r) => window.fmHas('#panel .thread .dispute', r), reason), await text(pa, '#panel .thread'));
  check('and names who disputed by party', (await text(pa, '#panel .thread .dispute')).includes('Side B'));
  check('A\'s side list shows the reason on the flight\'s row', await within(pa, ([s, r]) => window.fmHas(s + ' .why', r), [row, reason]), await text(pa, row));
  check('A\'s panel history shows B\'s dispute under version 1, with its comment',
    await within(pa, (r) => { const v = document.querySelector('#panel .ver[data-version="1"] .answers'); return v && v.textContent.includes('Side B disputed this version') && v.textContent.includes(r); }, reason),
    await text(pa, '#panel .ver'));
  check('and version 2 as the status the dispute set, disputed', await within(pa, () => {
    const v = document.querySelector('#panel .ver[data-version="2"]');
    return v && /disputed/.test(v.querySelector('.vh').textContent) && /status\s*Notified\s*→\s*Disputed/i.test(v.querySelector('.chg').textContent) && v.querySelector('.chg').textContent.includes('geometry unchanged');
  }, null), await text(pa, '#panel .ver[data-version="2"]'));
  check('the panel\'s status follows live: disputed', await within(pa, () => /disputed/i.test(document.querySelector('#panel .sub').textContent), null));
  await shot(pa, 'cell-owner-disputed.png');
  check('the wall lists the dispute with its reason, live', await within(pw, (r) => window.fmHas('#disputes li', 'Relief flight R-12') && window.fmHas('#disputes li .why', r), reason),
    await text(pw, '#disputes'));
  check('and says who disputed whose item, by party name', (await text(pw, '#disputes li')).includes('by Side B · Side A\'s movement'), await text(pw, '#disputes li'));
  check('the wall\'s waiting list no longer holds the disputed flight', !(await text(pw, '#open')).includes('Relief flight R-12'));
  check('the wall\'s ticker tells the dispute and its reason', await within(pw, (r) => window.fmHas('#ticker li', 'disputed movement “Relief flight R-12”: “' + r), reason),
    await text(pw, '#ticker li'));

  // ---- A answers in the thread, from the panel -------------------------------
  const answer = 'We will re-route south of 32.75N after 16:00; the first leg stays.';
  await pa.fill('#panel .compose textarea', answer, { timeout: 5000 }).catch(() => {});
  await tryClick(pa, '#panel .compose button');
  check('A\'s answer is on the thread', await within(pa, (t) => window.fmHas('#panel .msg', t), answer));
  check('B sees A\'s answer live in its panel', await within(pb, (t) => window.fmHas('#panel .msg', t), answer));
  check('the supervisor sees it live too', await within(ps, (t) => window.fmHas('#panel .msg', t), answer));
  const noted = await api(srv.url, b, 'POST', `/collections/movements/items/${id}/messages`, { text: 'Noted; we wait for the ruling.' }, { 'Content-Type': 'application/json' });
  check('B writes on the thread too (API)', noted.status === 201, noted.text.slice(0, 200));
  const hello = 'Cell: the relief flight is under review, decision by 16:00';
  const m = await api(srv.url, a, 'POST', '/channels/all/messages', { text: hello }, { 'Content-Type': 'application/json' });
  check('A writes to all parties', m.status === 201, m.text.slice(0, 200));
  check('the wall shows the cell\'s message in its ticker, live, by party name', await within(pw, (t) => window.fmHas('#cell li', 'Side A') && window.fmHas('#cell li', t), hello),
    await text(pw, '#cell'));
  await shot(pw, 'cell-wall-disputed.png');
  /* the stream is in order: the thread's messages reached the wall before the cell's */
  check('the flight stays on the wall\'s map while its thread talks', await pw.evaluate((k) => window.fmWall.layers.has(k) && window.fmWall.items.has(k), key));
  check('and not a message of an item\'s thread', !(await text(pw, '.ticker')).includes('re-route south of 32.75N after 16:00'), await text(pw, '.ticker'));
  check('and it said who wrote, by party name', (await text(ps, '#panel .msg .who')).includes('liaison-a (Side A)'), await text(ps, '#panel .msg .who'));

  // ---- the supervisor: the ruling, not Acknowledge ---------------------------
  await tryClick(ps, row);
  await ps.waitForSelector('.leaflet-popup .pop', { timeout: 5000 }).catch(() => {});
  check('the supervisor\'s popup on the disputed flight offers no Acknowledge',
    (await ps.$$('.leaflet-popup .actions button:has-text("Acknowledge")')).length === 0, await text(ps, '.leaflet-popup .actions'));
  await ps.keyboard.press('Escape');
  check('the supervisor\'s panel offers Uphold and Overrule with a reason',
    await within(ps, () => !!document.querySelector('#panel .rule button[data-d=overrule]') && !!document.querySelector('#panel .rule input'), null));
  check('a liaison\'s panel offers no ruling', (await pa.$$('#panel .rule button')).length === 0 && (await pb.$$('#panel .rule button')).length === 0);
  const why = 'The airspace closure ends at 16:00; the flight may proceed as notified.';
  await tryClick(ps, '#panel .rule button[data-d=overrule]');
  check('a ruling without a reason is refused in the page', await within(ps, () => (document.querySelector('#toast')?.textContent || '').includes('says why'), null));
  await ps.fill('#panel .rule input', why, { timeout: 5000 }).catch(() => {});
  await tryClick(ps, '#panel .rule button[data-d=overrule]');
  check('the supervisor overrules from the page', await within(ps, (w) => window.fmHas('#panel .thread .ruling', w), why));

  // ---- all three see the outcome, without reloading -------------------------
  for (const [p, who] of [[pa, 'A'], [pb, 'B'], [ps, 'the supervisor']]) {
    check(`${who} sees the ruling and its reason live`, await within(p, (w) => window.fmHas('#panel .thread .ruling', 'overruled') && window.fmHas('#panel .thread .ruling', w), why),
      await text(p, '#panel .thread .ruling'));
    check(`${who} sees the flight back to notified in the list`, await within(p, (s) => /notified/i.test(document.querySelector(s + ' .chip.st-notified')?.textContent || ''), row),
      await text(p, row));
    check(`${who}'s panel history shows the ruling under version 2`, await within(p, () => {
      const v = document.querySelector('#panel .ver[data-version="2"] .answers');
      return v && v.textContent.includes('Supervisor overruled the dispute');
    }, null), await text(p, '#panel .ver[data-version="2"]'));
  }
  check('the wall drops the dispute once it is overruled', await within(pw, () => !window.fmHas('#disputes', 'Relief flight R-12') && window.fmHas('#open', 'Relief flight R-12'), null),
    await text(pw, '#disputes'));
  check('the wall\'s ticker tells the ruling', await within(pw, () => window.fmHas('#ticker li', 'overruled the dispute of movement “Relief flight R-12”'), null), await text(pw, '#ticker li'));
  check('the list no longer shows a reason once the item is not disputed', await within(pa, (s) => !document.querySelector(s + ' .why'), row));
  await shot(ps, 'cell-supervisor-ruled.png');

  // ---- the supervisor resolves the conflict from the panel --------------------
  check('the supervisor is offered to resolve the open conflict', await within(ps, () => !!document.querySelector('#panel .cf.open .resolve button'), null));
  check('a liaison is not', (await pa.$$('#panel .cf .resolve button')).length === 0);
  const settled = 'Agreed by phone at 15:40: the flight keeps above 6000 m over B-2';
  await ps.fill('#panel .cf.open .resolve input', settled, { timeout: 5000 }).catch(() => {});
  await tryClick(ps, '#panel .cf.open .resolve button');
  for (const [p, who] of [[ps, 'the supervisor'], [pa, 'A'], [pb, 'B']])
    check(`${who} sees the conflict resolved with the comment, live`, await within(p, (t) => window.fmHas('#panel .cf.resolved', t) && !document.querySelector('#panel .cf.open'), settled),
      await text(p, '#panel .cfl'));
  check('A\'s list of open conflicts drops it, live', await within(pa, () => !window.fmHas('#conflict-list li', 'Relief flight R-12'), null), await text(pa, '#conflict-list'));
  const cf = await api(srv.url, a, 'GET', '/collections/conflicts/items?state=resolved');
  check('the server has the conflict resolved by the supervisor', (cf.json.features || []).some((f) => f.properties.comment === settled && f.properties.resolved_by === 'supervisor'));

  // ---- what the server says, and nobody reloaded -------------------------------
  const item = await api(srv.url, b, 'GET', `/collections/movements/items/${id}`);
  check('the server has the flight notified, its dispute and ruling on it',
    item.json.properties.status === 'notified' && item.json.properties.ruling.decision === 'overrule' && item.json.properties.dispute.reason === reason,
    JSON.stringify(item.json.properties).slice(0, 300));
  const acks = await api(srv.url, b, 'GET', `/collections/movements/items/${id}/acks`);
  check('B\'s dispute was signed and is on version 1', acks.json.acks.length === 1 && acks.json.acks[0].version === 1 && acks.json.acks[0].party === 'B');
  for (const [p, who] of [[pa, 'A'], [pb, 'B'], [ps, 'the supervisor'], [pw, 'the wall']])
    check(`${who}'s page was never reloaded`, await p.evaluate(() => window.fmNoReload === true));
  const shown = await text(pa, '#panel');
  check('the panel shows no internal id of another item', !/\b(zones?|incidents?|movements?|conflicts?)[ /#]\d+\b/.test(shown), shown.slice(0, 400));
  check('a version\'s change list reads the geometry as changed or not', /geometry (un)?changed/.test(shown));
  await shot(pa, 'cell-owner-outcome.png');
  const said = await text(pw, '.ticker li, #disputes li, #open li');
  check('the wall shows no internal id, login or action code', !/\b(zones?|incidents?|movements?|conflicts?)[ /#]\d+\b|liaison-|conflict_open|\(A\)|\(B\)/.test(said), said.slice(0, 400));
  check('no page errors', errors.length === 0, errors.join('; '));
} catch (e) {
  check('the run ends without an exception', false, e.stack || e.message);
} finally {
  await browser.close();
  await srv.stop();
}
finish();
