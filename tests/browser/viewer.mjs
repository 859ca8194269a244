// viewer.mjs - the viewer in headless Chromium against the real server:
// side A draws a polygon and side B's open page shows it within 2 s; an
// edit from a stale version shows the reload / compare choice and
// overwrites nothing; a draft of A never appears in B's page; seven tabs
// share one stream and all stay live and responsive. Issue 21: a polygon
// drawn inside another party's zone gets its vertices where clicked (no
// popup, no acknowledgement sent); a form's stale server error goes; the
// marker tool turns off after a report; a disputed movement is red; every
// list row is reached by Tab and opened with Enter or Space, map shapes are
// not in the tab order; the time slider steps in minutes near now and days
// far away, reaches 14 days ahead where planned items come into force, and
// away from now hides the conflicts of now.
import path from 'node:path';
import fs from 'node:fs';
import { startServer, tmpdir, login, api, signedAck, zone, loadPlaywright, check, finish } from './harness.mjs';

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
// screen positions of [lon, lat] points on a page's map
const screenXY = (page, pts) => page.evaluate((pts) => {
  const r = window.fmMap.getContainer().getBoundingClientRect();
  return pts.map(([lon, lat]) => { const p = window.fmMap.latLngToContainerPoint([lat, lon]); return [r.left + p.x, r.top + p.y]; });
}, pts);
// moves a page's time slider to the step nearest ms from now
const slideTo = (page, ms) => page.evaluate((ms) => {
  const el = document.querySelector('#time-slider');
  el.value = window.FM.timeline ? window.FM.timeline.indexOf(ms) : Math.round(ms / 3600e3); // (the old slider: hours)
  el.dispatchEvent(new Event('input'));
  el.dispatchEvent(new Event('change'));
}, ms);
const iso = (ms) => new Date(Date.now() + ms).toISOString().slice(0, 19) + 'Z';

try {
  const pageA = await openAs('liaison-a');
  const pageB = await openAs('liaison-b');
  check('the viewer lists the demo items', (await titles(pageB)).length >= 5);

  // ---- B draws a zone inside A's Range North: vertices where clicked -------------
  // (Range North is A's, proposed: a click on it would open a popup with
  // "Acknowledge" and "Dispute...")
  const cookieB = await login(srv.url, 'liaison-b');
  await pageB.evaluate(() => {
    window.fmMap.setView([33.06, 35.77], 12, { animate: false });
    window.popups = 0;
    window.fmMap.on('popupopen', () => { window.popups++; });
  });
  const inside = [[35.745, 33.04], [35.80, 33.035], [35.775, 33.065]];
  const xy = await screenXY(pageB, inside);
  await pageB.click('.leaflet-pm-icon-polygon');
  for (const [x, y] of xy) await pageB.mouse.click(x, y);
  await pageB.mouse.click(xy[0][0], xy[0][1]); // close the ring on the first vertex
  const formUp = await pageB.waitForSelector('.modal form', { timeout: 3000 }).then(() => true, () => false);
  check('a polygon drawn inside another party\'s zone opens no popup on the way', formUp && await pageB.evaluate(() => window.popups) === 0,
    `form ${formUp}, popups ${await pageB.evaluate(() => window.popups)}`);
  if (formUp) {
    await pageB.fill('.modal [name=title]', 'Drawn inside Range North');
    await pageB.selectOption('.modal [name=status]', 'proposed');
    await pageB.click('.modal [data-act=save]');
    await pageB.waitForFunction(() => !document.querySelector('.modal'), null, { timeout: 5000 }).catch(() => {});
  }
  const zs = await api(srv.url, cookieB, 'GET', '/collections/zones/items?limit=1000');
  const drawn = (zs.json.features || []).find((f) => f.properties.title === 'Drawn inside Range North');
  const ring = drawn ? drawn.geometry.coordinates[0] : [];
  const near = ring.length === 4 && inside.every(([lon, lat], i) => Math.abs(ring[i][0] - lon) < 0.001 && Math.abs(ring[i][1] - lat) < 0.001);
  check('the server has it with the vertices where they were clicked', near, JSON.stringify(ring));
  const rn = await api(srv.url, cookieB, 'GET', '/collections/zones/items/1/acks');
  const rnNow = await api(srv.url, cookieB, 'GET', '/collections/zones/items/1');
  check('and no acknowledgement or dispute of Range North was sent', rn.status === 200 && !rn.text.includes('"B"') && rnNow.json.properties.status === 'proposed',
    rn.text.slice(0, 300));
  await pageB.evaluate(() => window.fmMap.fitBounds(window.FM.AREA, { animate: false }));

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
  // the form offers only the statuses a new zone may start in (the
  // workflow of GET /vocabulary): draft and proposed, never active
  const offered = await pageA.$$eval('.modal [name=status] option', (os) => os.map((o) => o.value));
  check('a new zone\'s form offers exactly the workflow\'s start statuses (draft, proposed)', offered.join() === 'draft,proposed', offered.join());
  // the server refuses "active" for a new zone (as an old page, which
  // offered it, would send it); that message goes when the next,
  // unrelated error comes (here, the form's own: no title)
  await pageA.evaluate(() => document.querySelector('.modal [name=status]').add(new Option('active', 'active')));
  await pageA.selectOption('.modal [name=status]', 'active');
  await pageA.click('.modal [data-act=save]');
  await pageA.waitForSelector('.modal .problem:not([hidden])', { timeout: 3000 });
  const firstProblem = await pageA.textContent('.modal .problem');
  await pageA.selectOption('.modal [name=status]', 'proposed');
  await pageA.fill('.modal [name=title]', '');
  await pageA.click('.modal [data-act=save]');
  const stale = await pageA.evaluate(() => ({
    problem: document.querySelector('.modal .problem').hidden ? '' : document.querySelector('.modal .problem').textContent,
    status: document.querySelector('.modal [data-field=status] .msg').textContent,
    title: document.querySelector('.modal [data-field=title] .msg').textContent,
  }));
  check('a stale server error ("… not active") goes when the form changes and the next error comes', /active/.test(firstProblem) &&
    !stale.problem && !stale.status && /title/.test(stale.title), firstProblem + ' then ' + JSON.stringify(stale));
  await pageA.fill('.modal [name=title]', 'Drawn by A');
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
  // the marker tool is off after the save: the next click on the map starts nothing
  const toolOn = await pageA.evaluate(() => window.fmMap.pm.globalDrawModeEnabled());
  await pageA.mouse.click(1250, 650);
  const another = await pageA.waitForSelector('.modal', { timeout: 700 }).then(() => true, () => false);
  if (another) await pageA.click('.modal [data-act=cancel]');
  check('the marker tool turns off after an incident is saved', !toolOn && !another, `tool on ${toolOn}, another form ${another}`);
  // and after a cancel
  if (!await pageA.evaluate(() => window.fmMap.pm.globalDrawModeEnabled())) await pageA.click('.leaflet-pm-icon-marker');
  await pageA.mouse.click(1250, 650);
  await pageA.waitForSelector('.modal form [name=severity]');
  await pageA.click('.modal [data-act=cancel]');
  const toolOn2 = await pageA.evaluate(() => window.fmMap.pm.globalDrawModeEnabled());
  await pageA.mouse.click(1260, 600);
  const another2 = await pageA.waitForSelector('.modal', { timeout: 700 }).then(() => true, () => false);
  if (another2) await pageA.click('.modal [data-act=cancel]');
  check('and after a cancelled one', !toolOn2 && !another2, `tool on ${toolOn2}, another form ${another2}`);

  await pageA.click('.leaflet-pm-icon-polyline');
  for (const [x, y] of [[1000, 600], [1100, 560], [1200, 620]]) await pageA.mouse.click(x, y);
  await pageA.mouse.click(1200, 620); // finish on the last vertex
  await pageA.waitForSelector('.modal form [name=corridor_width_m]');
  await pageA.fill('.modal [name=title]', 'Water convoy W-2');
  await pageA.fill('.modal [name=corridor_width_m]', '0');
  await pageA.click('.modal [data-act=save]');
  check('a corridor width of 0 is refused before sending', /From/.test(await pageA.textContent('.modal [data-field=corridor_width_m] .msg')));
  await pageA.fill('.modal [name=corridor_width_m]', '750');
  await pageA.check('.modal [name=urgent]');
  await pageA.click('.modal [data-act=save]');
  check('marked urgent without a reason, it is refused before sending', /why/i.test(await pageA.textContent('.modal [data-field=urgent_reason] .msg')));
  if (process.env.FM_SHOTS) await pageA.screenshot({ path: process.env.FM_SHOTS + '/viewer-urgent-form.png' });
  await pageA.fill('.modal [name=urgent_reason]', 'Wells at the camp ran dry');
  await pageA.click('.modal [data-act=save]');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Water convoy W-2'), null, { timeout: 2000 });
  const mov = await pageB.evaluate(() => [...window.fmState.items.values()].find((f) => f.properties.title === 'Water convoy W-2'));
  check('the movement reaches B as a route with corridor and window', mov && mov.geometry.type === 'LineString' && mov.geometry.coordinates.length === 3 &&
        mov.properties.corridor_width_m === 750 && mov.properties.valid_from < mov.properties.valid_to, JSON.stringify(mov && mov.properties));
  check('urgent, with its reason, as the form said', mov && mov.properties.urgent === true && mov.properties.urgent_reason === 'Wells at the camp ran dry', JSON.stringify(mov && mov.properties));

  // ---- a stale edit shows the conflict choice ------------------------------
  const cookieA2 = await login(srv.url, 'liaison-a'); // a colleague of A, in another session
  const key = onMap.k;
  const id = Number(key.split('/')[1]);
  await pageA.evaluate((k) => { window.fmState.selected = k; }, key);
  await pageA.click(`#list li[data-key="${key}"]`);
  await pageA.waitForSelector('.leaflet-popup button:has-text("Edit details")');
  await pageA.click('.leaflet-popup button:has-text("Edit details")');
  await pageA.waitForSelector('.modal form');
  // the edit form offers the zone's status and the owner's steps from it
  // (DESIGN.md: a proposed zone goes back to draft, or on to active once acknowledged)
  const edit = await pageA.evaluate((k) => ({
    status: window.fmState.items.get(k).properties.status,
    offered: [...document.querySelectorAll('.modal [name=status] option')].map((o) => o.value).join(),
  }), key);
  const steps = { draft: 'draft,proposed', proposed: 'draft,proposed,active', active: 'proposed,active,expired' };
  check('the edit form offers the status and only the owner\'s steps from it', steps[edit.status] === edit.offered, JSON.stringify(edit));
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
  await slideTo(pageB, -3600e3);
  await pageB.waitForFunction(() => !document.querySelector('#banner').hidden);
  await pageB.waitForFunction(() => !window.fmState.loading);
  const past = await titles(pageB);
  const label = await pageB.textContent('#count');
  check('an hour ago (before the demo data), A\'s new zone did not exist yet', !past.some((t) => t.startsWith('Colleague title')) && /as of/.test(label), past.join(', ') + ' ' + label);
  // the conflicts as of then (their records): none, the demo data did not exist yet
  await pageB.waitForFunction(() => !window.fmState.loading);
  const pastConflicts = await pageB.evaluate(async () => {
    const r = await fetch('/collections/conflicts/items?limit=1000&t=' + encodeURIComponent(window.fmState.asOf));
    return { status: r.status, server: r.ok ? (await r.json()).features.filter((f) => f.properties.state === 'open').length : -1,
      rows: document.querySelectorAll('#conflict-list li[data-id]').length,
      shown: !document.querySelector('#conflict-list').hidden, note: document.querySelector('#conflicts-note:not([hidden])')?.textContent || '',
      drawn: window.fmState.conflictLayers.size };
  });
  check('an hour ago the conflicts are those of then: the server answers t= and the list shows its open ones (none yet), no note',
    pastConflicts.status === 200 && pastConflicts.rows === pastConflicts.server && pastConflicts.server === 0 && pastConflicts.drawn === 0 &&
    pastConflicts.shown && !pastConflicts.note, JSON.stringify(pastConflicts));
  await pageB.click('#time-now');
  await pageB.waitForFunction(() => [...document.querySelectorAll('#list li .t')].some((e) => e.textContent === 'Colleague title, renamed by A'));
  check('back to now shows it again', true);

  // ---- B acknowledges A's zone from its popup ----------------------------------
  await pageB.click(`#list li[data-key="${key}"]`);
  await pageB.waitForSelector('.leaflet-popup button:has-text("Acknowledge")');
  await pageB.click('.leaflet-popup button:has-text("Acknowledge")');
  await pageB.click('.modal button:has-text("Sign and send")'); /* the statement, confirmed (signing.js) */
  await pageB.waitForSelector('#toast:has-text("Acknowledged")', { timeout: 3000 });
  await pageB.mouse.move(700, 20); /* off the map, where the closed dialog left the pointer */
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
      l.isTooltipOpen();
  }, first, { timeout: 15000 }).catch(() => {}); /* under ASan on a loaded machine the flight and tooltip took over 5 s */
  /* the conflict's own tooltip: a zone's sticky one may also be open where the pointer last was */
  const after = await pageB.evaluate((id) => {
    const l = window.fmState.conflictLayers.get(id), m = window.fmMap;
    return { zoom: m.getZoom(), inView: m.getBounds().contains(l.getBounds()),
      tip: l.isTooltipOpen() ? l.getTooltip().getElement()?.textContent || '' : '' };
  }, first);
  check(`a click on a listed conflict flies to it (zoom ${before} -> ${after.zoom}) and names it`,
    after.inView && after.zoom > before && / × /.test(after.tip), JSON.stringify(after));

  // ---- a disputed movement is drawn red ------------------------------------------
  const medevac = await pageA.evaluate(() => { for (const [k, f] of window.fmState.items) if (f.properties.title === 'Medical evacuation flight') return { k, v: f.properties.version }; return null; });
  const mid = Number(medevac.k.split('/')[1]);
  /* B has a key now (its browser's): its answers are signed */
  const disp = await signedAck(srv.url, cookieB, 'movements', mid, medevac.v, 'dispute', 'not at that altitude');
  check('B disputes A\'s medical evacuation flight', disp.status === 200, disp.text.slice(0, 200));
  await pageA.waitForFunction((k) => window.fmState.items.get(k)?.properties.status === 'disputed', medevac.k, { timeout: 3000 }).catch(() => {});
  const strokes = await pageA.evaluate((k) => {
    const out = [];
    /* the marks of deadlines (late notice: purple beads) are not its outline */
    const walk = (l) => { if (l.eachLayer) l.eachLayer(walk); else if (l._path && !/fm-mark/.test(l._path.getAttribute('class'))) out.push(l._path.getAttribute('stroke')); };
    walk(window.fmState.layers.get(k));
    return out;
  }, medevac.k);
  check('A\'s page draws the disputed movement red, as a disputed zone', strokes.length >= 2 && strokes.every((c) => c === '#c92a2a'), strokes.join(','));

  // ---- keyboard: every list row, no map shape, in the tab order ----------------
  await pageB.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
  const walk = [];
  for (let i = 0; i < 150; i++) {
    await pageB.keyboard.press('Tab');
    const d = await pageB.evaluate(() => {
      const el = document.activeElement;
      return { list: el.matches('#list li'), conflict: el.matches('#conflict-list li'), shape: !!el.closest('.leaflet-map-pane'),
        zoom: el.classList.contains('leaflet-control-zoom-in'), key: el.dataset.key || el.dataset.id || '' };
    });
    walk.push(d);
    if (d.zoom) break;
  }
  const rowsB = await pageB.$$eval('#list li[data-key]', (els) => els.length);
  const zoomAt = walk.findIndex((d) => d.zoom);
  check(`Tab reaches every item row (${walk.filter((d) => d.list).length} of ${rowsB}) and the conflict rows`, walk.filter((d) => d.list).length === rowsB &&
    walk.some((d) => d.conflict));
  check(`and no map shape before the zoom buttons (tab ${zoomAt})`, zoomAt > 0 && !walk.slice(0, zoomAt).some((d) => d.shape),
    walk.filter((d) => d.shape).length + ' shapes');
  await pageB.focus('#list li[data-key="zones/1"]');
  await pageB.keyboard.press('Enter');
  const opened = await pageB.waitForFunction(() => (document.querySelector('.leaflet-popup-content')?.textContent || '').includes('Range North'), null, { timeout: 5000 })
    .then(() => true, () => false);
  check('Enter on a row opens that item on the map', opened && await pageB.evaluate(() => window.fmState.selected) === 'zones/1');
  await pageB.evaluate(() => window.fmMap.closePopup());
  const z0 = await pageB.evaluate(() => window.fmMap.getZoom());
  await pageB.evaluate(() => window.fmMap.setZoom(9, { animate: false }));
  await pageB.focus('#conflict-list li[data-id]');
  await pageB.keyboard.press(' ');
  const flew = await pageB.waitForFunction(() => window.fmMap.getZoom() > 9, null, { timeout: 5000 }).then(() => true, () => false);
  check(`Space on a conflict row flies to it (zoom 9 -> ${await pageB.evaluate(() => window.fmMap.getZoom())})`, flew, String(z0));

  // ---- the time slider ahead: what is planned ----------------------------------
  const planned = zone('Planned closure P-1', 'proposed', 35.63, 32.9);
  planned.properties.valid_from = iso(2 * 86400e3);
  planned.properties.valid_to = iso(4 * 86400e3);
  const pz = await api(srv.url, cookieA, 'POST', '/collections/zones/items', planned);
  check('A plans a zone from 2 to 4 days ahead', pz.status === 201, pz.text.slice(0, 200));
  const pkey = 'zones/' + pz.json.id;
  await pageB.waitForFunction((k) => window.fmState.layers.has(k), pkey, { timeout: 3000 });
  const phaseOf = (k) => pageB.evaluate((k) => {
    const l = window.fmState.layers.get(k), row = document.querySelector(`#list li[data-key="${k}"]`);
    const paths = [];
    const walk = (x) => { if (x.eachLayer) x.eachLayer(walk); else if (x._path) paths.push(x._path.getAttribute('class') + ' ' + x._path.getAttribute('stroke-dasharray')); };
    if (l) walk(l);
    return { phase: l && l.fmPhase, row: row ? row.className + ' ' + row.textContent : '', paths };
  }, k);
  const atNow = await phaseOf(pkey);
  check('at now the planned zone is listed and drawn as not yet in force (dotted)', atNow.phase === 'ahead' && /ahead/.test(atNow.row) &&
    /not yet in force/.test(atNow.row) && atNow.paths.every((p) => /fm-ahead/.test(p) && /2,? 6/.test(p)), JSON.stringify(atNow));
  await slideTo(pageB, 3 * 86400e3);
  await pageB.waitForFunction(() => !window.fmState.loading && window.fmState.asOf);
  await pageB.waitForFunction((k) => window.fmState.layers.get(k)?.fmPhase === 'in', pkey, { timeout: 3000 }).catch(() => {});
  const at3 = await phaseOf(pkey);
  const lab3 = await pageB.textContent('#time-label');
  const rn3 = await phaseOf('zones/1');
  check(`3 days ahead (${lab3}) the planned zone is in force, drawn solid`, at3.phase === 'in' && !/ahead/.test(at3.row) && /in 3 d/.test(lab3) &&
    at3.paths.every((p) => !/fm-ahead/.test(p)), JSON.stringify(at3));
  check('and the items of now are still there (Range North, in force until 7 days ahead)', rn3.phase === 'in');
  const aheadConflicts = await pageB.evaluate(() => ({ rows: document.querySelectorAll('#conflict-list li[data-id]').length,
    note: !!document.querySelector('#conflicts-note:not([hidden])') }));
  check('ahead too, the conflicts of now are not shown as of then', aheadConflicts.rows === 0 && aheadConflicts.note, JSON.stringify(aheadConflicts));
  await slideTo(pageB, 10 * 86400e3);
  await pageB.waitForFunction(() => window.fmState.layers.get('zones/1')?.fmPhase === 'over', null, { timeout: 3000 }).catch(() => {});
  const rn10 = await phaseOf('zones/1');
  check('10 days ahead Range North\'s window is over (faded)', rn10.phase === 'over' && /over/.test(rn10.row), JSON.stringify(rn10));
  await pageB.click('#time-now');
  await pageB.waitForSelector('#conflict-list li[data-id]', { timeout: 5000 }).catch(() => {});
  check('back to now, the conflicts are listed again', await pageB.evaluate(() => !document.querySelector('#conflicts-note:not([hidden])') &&
    document.querySelectorAll('#conflict-list li[data-id]').length > 0));

  // ---- the slider's steps: minutes near now, days far away (a fixed clock) -------
  const cctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const today = new Date().toISOString().slice(0, 10);
  await cctx.clock.setFixedTime(new Date(today + 'T12:33:27Z'));
  const pc = await openAs('viewer', cctx);
  await pc.focus('#time-slider');
  const labels = [];
  for (let i = 0; i < 14; i++) { await pc.keyboard.press('ArrowLeft'); labels.push((await pc.textContent('#time-label')).match(/\d\d:\d\d(?= UTC)/)?.[0]); }
  check('one step back from 12:33 is 12:28, then 5-minute steps to an hour, then 15 minutes',
    labels.join(' ') === '12:28 12:23 12:18 12:13 12:08 12:03 11:58 11:53 11:48 11:43 11:38 11:33 11:18 11:03', labels.join(' '));
  await pc.keyboard.press('Home');
  const farBack = await pc.textContent('#time-label');
  await pc.keyboard.press('ArrowRight');
  const nextBack = await pc.textContent('#time-label');
  await pc.keyboard.press('End');
  const farAhead = await pc.textContent('#time-label');
  await pc.keyboard.press('ArrowLeft');
  const nextAhead = await pc.textContent('#time-label');
  const day = (t) => (t.match(/\d{4}-\d\d-\d\d \d\d:\d\d/) || [''])[0];
  const dd = (d) => new Date(Date.parse(today + 'T12:33:00Z') + d * 86400e3).toISOString().slice(0, 16).replace('T', ' ');
  check(`the slider reaches 30 days back in steps of a day (${day(farBack)}, ${day(nextBack)})`, day(farBack) === dd(-30) && day(nextBack) === dd(-29));
  check(`and 14 days ahead (${farAhead}; ${day(nextAhead)})`, day(farAhead) === dd(14) && /in 14 d/.test(farAhead) && day(nextAhead) === dd(13));
  await cctx.close();

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
