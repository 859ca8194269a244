// viewer.mjs - the viewer in headless Chromium against the real server:
// side A draws a polygon and side B's open page shows it within 2 s; an
// edit from a stale version shows the reload / compare choice and
// overwrites nothing; a draft of A never appears in B's page; seven tabs
// share one stream and all stay live and responsive.
import path from 'node:path';
import fs from 'node:fs';
import { startServer, tmpdir, login, api, zone, loadPlaywright, waitFor, check, finish } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();
const srv = await startServer({ db: path.join(dir, 'viewer.db') });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];

async function openAs(user, ctx) {
  ctx = ctx || await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
  await page.goto(srv.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', user);
  await page.fill('#login-password', user);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list li');
  await page.waitForSelector('#conn.live');
  return page;
}
const titles = (page) => page.$$eval('#list li .t', (els) => els.map((e) => e.textContent));

try {
  const pageA = await openAs('liaison-a');
  const pageB = await openAs('liaison-b');
  check('the viewer lists the demo items', (await titles(pageB)).length >= 5);

  // ---- A draws a polygon; B sees it within 2 s ------------------------------
  await pageA.click('.leaflet-pm-icon-polygon');
  for (const [x, y] of [[1000, 180], [1150, 200], [1100, 380]]) await pageA.mouse.click(x, y);
  await pageA.mouse.click(1000, 180); // close the ring on the first vertex
  await pageA.waitForSelector('.modal form');
  // the form refuses an empty title and an inverted altitude band
  await pageA.fill('.modal [name=altitude_ceiling_m]', '-5');
  await pageA.click('.modal [data-act=save]');
  const msgs = await pageA.$$eval('.modal .msg', (els) => els.map((e) => e.textContent).filter(Boolean));
  check('the zone form is validated before sending (title, altitude band)', msgs.length >= 2, msgs.join(' | '));
  await pageA.fill('.modal [name=title]', 'Drawn by A');
  await pageA.fill('.modal [name=altitude_ceiling_m]', '2500');
  await pageA.selectOption('.modal [name=status]', 'proposed');
  const t0 = Date.now();
  await pageA.click('.modal [data-act=save]');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Drawn by A'), null, { timeout: 2000 })
    .catch(() => {});
  const seen = Date.now() - t0;
  check(`B's open page shows A's new polygon within 2 s (${seen} ms)`, (await titles(pageB)).includes('Drawn by A') && seen < 2000);
  const onMap = await pageB.evaluate(() => {
    for (const [k, f] of window.fmState.items) if (f.properties.title === 'Drawn by A') return { k, layer: window.fmState.layers.has(k), type: f.geometry.type };
    return null;
  });
  check('and draws it on B\'s map as a polygon', onMap && onMap.layer && onMap.type === 'Polygon', JSON.stringify(onMap));

  // ---- A reports an incident and notifies a movement through the forms ------
  await pageA.click('.leaflet-pm-icon-marker');
  await pageA.mouse.click(1150, 420);
  await pageA.waitForSelector('.modal form [name=severity]');
  await pageA.fill('.modal [name=title]', 'Mortar rounds heard');
  const future = new Date(Date.now() + 86400e3).toISOString().slice(0, 16);
  await pageA.fill('.modal [name=occurred_at]', future);
  await pageA.click('.modal [data-act=save]');
  const occMsg = await pageA.textContent('.modal [data-field=occurred_at] .msg');
  check('an incident in the future is refused before sending', /future/.test(occMsg), occMsg);
  await pageA.fill('.modal [name=occurred_at]', new Date(Date.now() - 600e3).toISOString().slice(0, 16));
  await pageA.selectOption('.modal [name=severity]', '5');
  await pageA.selectOption('.modal [name=category]', 'shelling');
  await pageA.click('.modal [data-act=save]');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Mortar rounds heard'), null, { timeout: 2000 });
  const incident = await pageB.evaluate(() => [...window.fmState.items.values()].find((f) => f.properties.title === 'Mortar rounds heard'));
  check('the incident reaches B with its category, severity and time', incident && incident.coll === 'incidents' && incident.properties.severity === 5 &&
        incident.properties.category === 'shelling' && /Z$/.test(incident.properties.occurred_at), JSON.stringify(incident && incident.properties));

  await pageA.click('.leaflet-pm-icon-polyline');
  for (const [x, y] of [[1000, 600], [1100, 560], [1200, 620]]) await pageA.mouse.click(x, y);
  await pageA.mouse.click(1200, 620); // finish on the last vertex
  await pageA.waitForSelector('.modal form [name=corridor_width_m]');
  await pageA.fill('.modal [name=title]', 'Water convoy W-2');
  await pageA.fill('.modal [name=corridor_width_m]', '0');
  await pageA.click('.modal [data-act=save]');
  check('a corridor width of 0 is refused before sending', /From/.test(await pageA.textContent('.modal [data-field=corridor_width_m] .msg')));
  await pageA.fill('.modal [name=corridor_width_m]', '750');
  await pageA.click('.modal [data-act=save]');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Water convoy W-2'), null, { timeout: 2000 });
  const mov = await pageB.evaluate(() => [...window.fmState.items.values()].find((f) => f.properties.title === 'Water convoy W-2'));
  check('the movement reaches B as a route with corridor and window', mov && mov.geometry.type === 'LineString' && mov.geometry.coordinates.length === 3 &&
        mov.properties.corridor_width_m === 750 && mov.properties.valid_from < mov.properties.valid_to, JSON.stringify(mov && mov.properties));

  // ---- a stale edit shows the conflict choice ------------------------------
  const cookieA2 = await login(srv.url, 'liaison-a'); // a colleague of A, in another session
  const key = onMap.k;
  const id = Number(key.split('/')[1]);
  await pageA.evaluate((k) => { window.fmState.selected = k; }, key);
  await pageA.click(`#list li[data-key="${key}"]`);
  await pageA.waitForSelector('.leaflet-popup button:has-text("Edit details")');
  await pageA.click('.leaflet-popup button:has-text("Edit details")');
  await pageA.waitForSelector('.modal form');
  // meanwhile the colleague saves version 2
  const cur = await api(srv.url, cookieA2, 'GET', `/collections/zones/items/${id}`);
  const v2 = await api(srv.url, cookieA2, 'PATCH', `/collections/zones/items/${id}`, { properties: { title: 'Colleague title' } },
    { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${cur.json.properties.version}"` });
  check('the colleague\'s edit is saved', v2.status === 200, v2.text);
  await pageA.fill('.modal [name=title]', 'My stale title');
  await pageA.click('.modal [data-act=save]');
  await pageA.waitForSelector('.modal h2:has-text("Someone changed this item")', { timeout: 5000 });
  const table = await pageA.textContent('.modal .compare');
  check('a stale save shows "someone changed this" with both versions', table.includes('Colleague title') && table.includes('My stale title'));
  const buttons = await pageA.$$eval('.modal:last-child .buttons button', (els) => els.map((e) => e.textContent));
  check('offering reload, and saving mine only on request', buttons.some((b) => /Reload/.test(b)) && buttons.some((b) => /Save my changes/.test(b)), buttons.join(' | '));
  const still = await api(srv.url, cookieA2, 'GET', `/collections/zones/items/${id}`);
  check('nothing was overwritten silently', still.json.properties.title === 'Colleague title');
  await pageA.click('.modal [data-act=reload]');
  await pageA.waitForFunction(() => !document.querySelector('.modal'));
  check('reload shows the colleague\'s version', (await titles(pageA)).includes('Colleague title'));

  // again, and this time A chooses to save: only A's change goes over theirs
  await pageA.click(`#list li[data-key="${key}"]`);
  await pageA.click('.leaflet-popup button:has-text("Edit details")');
  await pageA.waitForSelector('.modal form');
  const cur2 = await api(srv.url, cookieA2, 'GET', `/collections/zones/items/${id}`);
  await api(srv.url, cookieA2, 'PATCH', `/collections/zones/items/${id}`, { properties: { altitude_ceiling_m: 4321 } },
    { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${cur2.json.properties.version}"` });
  await pageA.fill('.modal [name=title]', 'Colleague title, renamed by A');
  await pageA.click('.modal [data-act=save]');
  await pageA.waitForSelector('.modal h2:has-text("Someone changed this item")', { timeout: 5000 });
  await pageA.click('.modal [data-act=mine]');
  await pageA.waitForFunction(() => !document.querySelector('.modal'));
  const merged = await api(srv.url, cookieA2, 'GET', `/collections/zones/items/${id}`);
  check('"save my changes" after the choice keeps the colleague\'s other change',
        merged.json.properties.title === 'Colleague title, renamed by A' && merged.json.properties.altitude_ceiling_m === 4321,
        JSON.stringify(merged.json.properties));

  // ---- A's draft never reaches B --------------------------------------------
  const cookieA = await login(srv.url, 'liaison-a');
  const d = await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('A secret draft', 'draft', 35.7, 32.7));
  check('A saves a draft', d.status === 201);
  await pageA.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'A secret draft'), null, { timeout: 2000 });
  check('A\'s page shows A\'s draft', true);
  // a visible change after the draft proves B's page is live and past it
  await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('after the secret', 'proposed', 35.75, 32.7));
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'after the secret'), null, { timeout: 2000 });
  const bHtml = await pageB.content();
  const bState = await pageB.evaluate(() => JSON.stringify([...window.fmState.items.values()]));
  check('B\'s page never shows A\'s draft (list, map state, DOM)', !bHtml.includes('A secret draft') && !bState.includes('A secret draft'));
  // also not after a reload, nor when looking back in time
  await pageB.reload();
  await pageB.waitForSelector('#list li');
  check('nor after B reloads', !(await pageB.content()).includes('A secret draft'));

  // ---- the time slider: as of the past --------------------------------------
  await pageB.$eval('#time-slider', (el) => { el.value = -1; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); });
  await pageB.waitForFunction(() => !document.querySelector('#banner').hidden);
  await pageB.waitForFunction(() => !window.fmState.loading);
  const past = await titles(pageB);
  const label = await pageB.textContent('#count');
  check('an hour ago (before the demo data), A\'s new zone did not exist yet', !past.some((t) => t.startsWith('Colleague title')) && /as of/.test(label), past.join(', ') + ' ' + label);
  await pageB.click('#time-now');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Colleague title, renamed by A'));
  check('back to now shows it again', true);

  // ---- B acknowledges A's zone from its popup ----------------------------------
  await pageB.click(`#list li[data-key="${key}"]`);
  await pageB.waitForSelector('.leaflet-popup button:has-text("Acknowledge")');
  await pageB.click('.leaflet-popup button:has-text("Acknowledge")');
  await pageB.waitForSelector('#toast:has-text("Acknowledged")', { timeout: 3000 });
  const acks = await api(srv.url, cookieA2, 'GET', `/collections/zones/items/${id}/acks`);
  check('B acknowledges A\'s zone from the map', acks.status === 200 && JSON.stringify(acks.json).includes('"B"'), acks.text.slice(0, 300));

  // ---- open conflicts: listed, and a click flies there ---------------------------
  // (the demo's movement 7 crosses zone 1)
  await pageB.waitForSelector('#conflict-list li[data-id]', { timeout: 5000 });
  const listed = await pageB.$$eval('#conflict-list li[data-id] .t', (els) => els.map((e) => e.textContent));
  const count = Number(await pageB.textContent('#conflict-count'));
  check('the viewer lists the open conflicts, with both items named', listed.length >= 1 && count === listed.length &&
    listed.every((t) => t.includes(' × ')), listed.join(' | '));
  const before = await pageB.evaluate(() => window.fmMap.getZoom());
  const first = await pageB.getAttribute('#conflict-list li[data-id]', 'data-id');
  await pageB.click('#conflict-list li[data-id]');
  await pageB.waitForFunction((id) => {
    const l = window.fmState.conflictLayers.get(id), m = window.fmMap;
    return l && !m._animatingZoom && m.getBounds().contains(l.getBounds()) && m.getBounds().pad(-0.1).intersects(l.getBounds()) &&
      document.querySelector('.leaflet-tooltip') !== null;
  }, first, { timeout: 5000 }).catch(() => {});
  const after = await pageB.evaluate((id) => {
    const l = window.fmState.conflictLayers.get(id), m = window.fmMap;
    return { zoom: m.getZoom(), inView: m.getBounds().contains(l.getBounds()), tip: document.querySelector('.leaflet-tooltip')?.textContent || '' };
  }, first);
  check(`a click on a listed conflict flies to it (zoom ${before} -> ${after.zoom}) and names it`,
    after.inView && after.zoom > before && / × /.test(after.tip), JSON.stringify(after));

  // ---- filters -----------------------------------------------------------------
  await pageB.selectOption('#f-kind', 'incidents');
  const inc = await pageB.$$eval('#list li .m', (els) => els.map((e) => e.textContent));
  check('the kind filter keeps only incidents', inc.length > 0 && inc.every((m) => m.startsWith('incident')), inc.join('|'));
  await pageB.selectOption('#f-kind', '');

  // ---- seven tabs in one browser: one stream, all live ------------------------
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const tabs = [await openAs('supervisor', ctx)];
  for (let i = 1; i < 7; i++) {
    const p = await ctx.newPage();
    p.on('pageerror', (e) => errors.push(`tab${i}: ${e.message}`));
    await p.goto(srv.url + '/');
    await p.waitForSelector('#list li', { timeout: 10000 });
    tabs.push(p);
  }
  const t1 = Date.now();
  await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('to seven tabs', 'proposed', 35.9, 32.7));
  await Promise.all(tabs.map((p) => p.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'to seven tabs'), null, { timeout: 5000 })));
  check(`7 tabs of one browser all get the change (${Date.now() - t1} ms)`, Date.now() - t1 < 5000);
  const r = await tabs[6].evaluate(async () => (await fetch('/me')).status);
  check('and the 7th tab can still make requests', r === 200);
  await ctx.close();

  check('no script errors in the pages', errors.length === 0, errors.join('\n'));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
