// tools.mjs - the viewer's legend and position tools in headless Chromium
// against the real server (issue 21). The legend lists every party with
// its colour from GET /parties, every zone type, and the patterns, line
// styles and symbols of GET /vocabulary (the list the tile styles are
// built from, common/vocabulary.def); the forms offer exactly its words;
// it opens and closes and covers none of the map's controls. The go-to box
// flies the map's centre to within 10 m of an MGRS reference, a decimal
// latitude, longitude and a DMS one, marks the place, and answers a string
// it cannot read with a message (the map stays). The measuring tool gives
// the distance within 0.5 % and the true bearing within 0.5 degrees
// (Vincenty's own test line, Flinders Peak - Buninyong, 54 972.271 m at
// 306.868 degrees; and two lines in the area of interest), and its clicks
// open no item's popup.
import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, tmpdir, login, api, loadPlaywright, check, finish, SRC } from './harness.mjs';

const { chromium } = await loadPlaywright();
const mgrs = createRequire(import.meta.url)(path.join(SRC, 'node_modules/mgrs'));
const dir = tmpdir();
const srv = await startServer({ db: path.join(dir, 'tools.db') });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];

// metres between two [lat, lon] (a sphere: enough for "within 10 m")
function metres([a, b], [c, d]) {
  const r = Math.PI / 180, h = Math.sin((c - a) * r / 2) ** 2 + Math.cos(a * r) * Math.cos(c * r) * Math.sin((d - b) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

async function openAs(user) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
  await page.goto(srv.url + '/');
  await page.fill('#login-user', user);
  await page.fill('#login-password', user);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list li');
  await page.waitForSelector('#conn.live');
  return page;
}
const centre = (page) => page.evaluate(() => { const c = window.fmMap.getCenter(); return [c.lat, c.lng]; });
async function goTo(page, text) {
  await page.evaluate(() => { window.fmMoved = false; window.fmMap.once('moveend', () => { window.fmMoved = true; }); });
  await page.fill('#goto', text);
  await page.press('#goto', 'Enter');
  await page.waitForFunction(() => window.fmMoved && !window.fmMap._animatingZoom, null, { timeout: 5000 }).catch(() => {});
  return centre(page);
}
const screenXY = (page, pts) => page.evaluate((pts) => {
  const r = window.fmMap.getContainer().getBoundingClientRect();
  return pts.map(([lat, lon]) => { const p = window.fmMap.latLngToContainerPoint([lat, lon]); return [r.left + p.x, r.top + p.y]; });
}, pts);
async function measure(page, a, b, zoom) {
  await page.evaluate(([a, b, zoom]) => window.fmMap.setView([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], zoom, { animate: false }), [a, b, zoom]);
  const [p, q] = await screenXY(page, [a, b]);
  await page.mouse.click(p[0], p[1]);
  await page.mouse.click(q[0], q[1]);
  await page.waitForFunction(() => document.querySelector('#measure-out').dataset.m, null, { timeout: 3000 }).catch(() => {});
  return page.evaluate(() => { const o = document.querySelector('#measure-out'); return { m: Number(o.dataset.m), deg: Number(o.dataset.deg), text: o.textContent }; });
}
const angle = (x, y) => Math.abs(((x - y + 540) % 360) - 180);

try {
  const page = await openAs('liaison-a');
  const cookie = await login(srv.url, 'liaison-a');

  // ---- the legend ----------------------------------------------------------------
  const closed = await page.evaluate(() => document.querySelector('#legend-body').hidden);
  await page.click('#legend-toggle');
  const legend = await page.evaluate(() => ({
    open: !document.querySelector('#legend-body').hidden,
    parties: [...document.querySelectorAll('.fm-legend [data-party]')].map((li) => ({ code: li.dataset.party, colour: li.dataset.colour,
      shown: getComputedStyle(li.querySelector('.party-sw')).backgroundColor, text: li.textContent })),
    zones: [...document.querySelectorAll('.fm-legend [data-zone-type]')].map((li) => ({ type: li.dataset.zoneType, pattern: li.dataset.pattern, text: li.textContent })),
    statuses: [...document.querySelectorAll('.fm-legend [data-statuses]')].map((li) => ({ names: li.dataset.statuses.split(' '), text: li.textContent })),
    symbols: [...document.querySelectorAll('.fm-legend [data-symbol]')].map((li) => ({ shape: li.dataset.symbol, text: li.textContent })),
  }));
  check('the legend starts closed and opens with its button', closed && legend.open);
  const parties = (await api(srv.url, cookie, 'GET', '/parties')).json;
  const rgb = (hex) => { const n = parseInt(hex.slice(1), 16); return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`; };
  check(`the legend lists every party of /parties with its colour (${parties.map((p) => p.code + ' ' + p.colour).join(', ')})`,
    parties.length >= 2 && legend.parties.length === parties.length && parties.every((p) => legend.parties.some((l) =>
      l.code === p.code && l.colour === p.colour && l.shown === rgb(p.colour) && l.text.includes(p.name))), JSON.stringify(legend.parties));
  const voc = (await api(srv.url, cookie, 'GET', '/vocabulary')).json;
  const zoneOk = voc.zone_types.length >= 6 && voc.zone_types.every((t) => {
    const row = legend.zones.find((z) => z.type === t.name);
    return row && row.pattern === t.pattern && row.text.includes(t.legend);
  });
  check(`the legend lists every zone type of /vocabulary (${voc.zone_types.length}) with its fill pattern`, zoneOk && legend.zones.length === voc.zone_types.length,
    JSON.stringify(legend.zones));
  check(`every status of /vocabulary (${voc.statuses.length}) has its line style in the legend`,
    voc.statuses.every((s) => legend.statuses.filter((r) => r.names.includes(s.name)).length === 1) &&
    legend.statuses.some((r) => r.names.includes('disputed') && /red/.test(r.text)) && legend.statuses.some((r) => r.names.includes('proposed') && /dashed/.test(r.text)),
    JSON.stringify(legend.statuses));
  const shapes = [...new Set(voc.categories.map((c) => c.symbol))];
  check(`every incident symbol of /vocabulary (${shapes.length}) is in the legend, naming its categories`, legend.symbols.length === shapes.length &&
    voc.categories.every((c) => legend.symbols.some((s) => s.shape === c.symbol && s.text.includes(c.label))), JSON.stringify(legend.symbols));
  // the forms offer the words of /vocabulary, with their labels, and no others
  const offered = {};
  for (const coll of ['incidents', 'zones', 'movements']) {
    offered[coll] = await page.evaluate(async (coll) => {
      const { fieldsFor } = await import('/static/js/forms.js');
      return Object.fromEntries(fieldsFor(coll).filter((f) => f.options).map((f) => [f.name, f.options.map((o) => o.value + '=' + o.label)]));
    }, coll);
  }
  const pairs = (list) => list.map((t) => String(t.name ?? t.value) + '=' + t.label);
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check('the incident form offers /vocabulary\'s categories and severities with their labels',
    same(offered.incidents.category, pairs(voc.categories)) && same(offered.incidents.severity, pairs(voc.severities)), JSON.stringify(offered.incidents));
  // a new item's form: only the statuses the workflow lets it start in
  const starts = (c) => pairs(voc.statuses.filter((s) => voc.workflow[c].start.includes(s.name)));
  check('the zone form offers its zone types, the movement form its kinds, each form only the statuses its collection starts in',
    same(offered.zones.type, pairs(voc.zone_types)) && same(offered.movements.type, pairs(voc.movement_kinds)) &&
    same(offered.zones.status, starts('zones')) && same(offered.incidents.status, starts('incidents')) &&
    same(offered.movements.status, starts('movements')) && offered.zones.status.length === 2, JSON.stringify(offered));
  // it covers none of the map's controls (zoom, drawing tools, layers, go to, scale)
  const overlap = await page.evaluate(() => {
    const box = document.querySelector('.fm-legend').getBoundingClientRect();
    const hit = [];
    for (const el of document.querySelectorAll('.leaflet-control, .cursor')) {
      if (el.classList.contains('fm-legend')) continue;
      const r = el.getBoundingClientRect();
      if (r.width && r.left < box.right && r.right > box.left && r.top < box.bottom && r.bottom > box.top) hit.push(el.className);
    }
    const map = document.querySelector('#map').getBoundingClientRect();
    return { hit, inside: box.top >= map.top && box.bottom <= map.bottom, h: box.height };
  });
  check(`the open legend covers no map control (${Math.round(overlap.h)} px high, inside the map)`, overlap.hit.length === 0 && overlap.inside, JSON.stringify(overlap));
  await page.click('#legend-toggle');
  check('and closes again', await page.evaluate(() => document.querySelector('#legend-body').hidden));

  // ---- the Brief button --------------------------------------------------------------
  const brief = await page.evaluate(async () => {
    const a = document.querySelector('#brief');
    a.focus();
    const b = window.fmMap.getBounds();
    const href = a.getAttribute('href');
    const res = await fetch(href, { credentials: 'same-origin' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { href, target: a.target, focused: document.activeElement === a, text: a.textContent,
      bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], status: res.status, type: res.headers.get('Content-Type'),
      magic: String.fromCharCode(...bytes.slice(0, 5)), size: bytes.length };
  });
  const bb = (new URL(brief.href, srv.url).searchParams.get('bbox') || '').split(',').map(Number);
  check(`a Brief link in the bar, focusable, opens /map.pdf of the view in a new tab (${brief.href})`,
    brief.text === 'Brief' && brief.focused && brief.target === '_blank' && /^\/map\.pdf\?bbox=/.test(brief.href) &&
    bb.length === 4 && bb.every((x, i) => Math.abs(x - brief.bounds[i]) < 1e-4), JSON.stringify(brief));
  check(`and the server answers it with a PDF (${brief.status} ${brief.type}, ${brief.size} bytes)`,
    brief.status === 200 && brief.type === 'application/pdf' && brief.magic === '%PDF-' && brief.size > 10000, JSON.stringify(brief));
  await page.evaluate(() => window.fmMap.panBy([300, 0], { animate: false }));
  const moved = await page.evaluate(() => document.querySelector('#brief').getAttribute('href'));
  check('its address follows the view', moved !== brief.href && /^\/map\.pdf\?bbox=/.test(moved), moved);

  // ---- go to a position ------------------------------------------------------------
  const pt = [33.01234, 35.84567];
  const ref = mgrs.forward([pt[1], pt[0]], 5).replace(/^(\d+[A-Z])([A-Z]{2})(\d{5})(\d{5})$/, '$1 $2 $3 $4');
  let c = await goTo(page, ref);
  check(`MGRS "${ref}" flies the map's centre there (${metres(c, pt).toFixed(1)} m off)`, metres(c, pt) < 10, JSON.stringify(c));
  const marked = await page.evaluate(() => ({ marks: document.querySelectorAll('path.fm-goto').length, msg: document.querySelector('#goto-msg').textContent,
    label: document.querySelector('.fm-goto-label')?.textContent || '' }));
  check('and marks the place, naming it in lat/lon and MGRS', marked.marks === 1 && /33\.0123\d°N 35\.8456\d°E/.test(marked.msg) && /MGRS 36S/.test(marked.msg) &&
    marked.label === ref, JSON.stringify(marked));
  const cases = [['32.85, 35.9', [32.85, 35.9]], ['32.91234 35.70001', [32.91234, 35.70001]],
    ['32°51\'30"N 35°54\'12"E', [32 + 51 / 60 + 30 / 3600, 35 + 54 / 60 + 12 / 3600]], ['N33 05.5 E35 40.25', [33 + 5.5 / 60, 35 + 40.25 / 60]],
    ['35°45′E 33°02′N', [33 + 2 / 60, 35.75]], ['32.85n 35.9e', [32.85, 35.9]]];
  for (const [text, want] of cases) {
    c = await goTo(page, text);
    check(`"${text}" flies there (${metres(c, want).toFixed(1)} m off)`, metres(c, want) < 10, JSON.stringify(c));
  }
  check('one mark at a time', await page.evaluate(() => document.querySelectorAll('path.fm-goto').length) === 1);
  for (const bad of ['hello there', '95, 35', '32°75\'N 35°54\'E', '36S YB 1234 567', '']) {
    const before = await centre(page);
    await page.fill('#goto', bad);
    await page.press('#goto', 'Enter');
    await page.waitForTimeout(300);
    const r = await page.evaluate(() => ({ err: document.querySelector('#goto-msg').classList.contains('error'), text: document.querySelector('#goto-msg').textContent,
      shown: !document.querySelector('#goto-msg').hidden, invalid: document.querySelector('#goto').classList.contains('invalid') }));
    const after = await centre(page);
    check(`"${bad}" gives a message (${r.text.slice(0, 70)}…) and the map stays`, r.err && r.shown && r.invalid && /Cannot read|Type a position/.test(r.text) &&
      metres(before, after) < 1, JSON.stringify(r));
  }

  // ---- measuring ---------------------------------------------------------------------
  await page.click('#measure');
  check('Measure turns on', await page.evaluate(() => document.querySelector('#measure').getAttribute('aria-pressed') === 'true'));
  const dms = (d, m, s) => d + m / 60 + s / 3600;
  const flinders = [-dms(37, 57, 3.7203), dms(144, 25, 29.5244)], buninyong = [-dms(37, 39, 10.1561), dms(143, 55, 35.3839)];
  let r = await measure(page, flinders, buninyong, 11);
  check(`Flinders Peak to Buninyong: ${r.text} (54.972 km at 306.87°)`, Math.abs(r.m / 54972.271 - 1) < 0.005 && angle(r.deg, 306.868) < 0.5, JSON.stringify(r));
  await page.evaluate(() => { window.popups = 0; window.fmMap.on('popupopen', () => { window.popups++; }); });
  // across A's Range North (a click on it would open its popup), west to east
  const w = [33.04, 35.745], e = [33.04, 35.80];
  r = await measure(page, w, e, 13);
  const ew = metres(w, e);
  check(`west to east across Range North: ${r.text} (${(ew / 1000).toFixed(3)} km on a sphere, at about 90°)`, Math.abs(r.m / ew - 1) < 0.005 && angle(r.deg, 90) < 0.5,
    JSON.stringify(r));
  check('the measuring clicks open no popup', await page.evaluate(() => window.popups) === 0);
  const s = [32.7, 35.8], n = [32.95, 35.8];
  r = await measure(page, n, s, 11);
  check(`north to south: ${r.text} (${(metres(n, s) / 1000).toFixed(3)} km, 180°)`, Math.abs(r.m / metres(n, s) - 1) < 0.005 && angle(r.deg, 180) < 0.5, JSON.stringify(r));
  await page.keyboard.press('Escape');
  const off = await page.evaluate(() => ({ pressed: document.querySelector('#measure').getAttribute('aria-pressed'), drawn: document.querySelectorAll('path.fm-measure').length,
    drawing: document.querySelector('#map').classList.contains('fm-drawing') }));
  check('Escape ends measuring and clears its lines', off.pressed === 'false' && off.drawn === 0 && !off.drawing, JSON.stringify(off));

  check('no script errors in the page', errors.length === 0, errors.join('\n'));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
