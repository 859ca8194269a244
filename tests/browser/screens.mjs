// screens.mjs - screenshots of the viewer (1366x768, 1920x1080), its item
// panel (a disputed, amended, answered item) and the wall (1920x1080, with
// disputes and the cell's message) in headless Chromium, into tests/out/ (or $1), for a
// person to look at. Not a test: run it by hand after changing web/.
import path from 'node:path';
import fs from 'node:fs';
import { startServer, tmpdir, login, api, loadPlaywright, waitFor, zone, SRC } from './harness.mjs';
import { execFileSync } from 'node:child_process';

const { chromium } = await loadPlaywright();
const out = process.argv[2] || path.join(SRC, 'tests/out');
fs.mkdirSync(out, { recursive: true });
const dir = tmpdir();
const db = path.join(dir, 'screens.db');
const srv = await startServer({ db });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
try {
  const a = await login(srv.url, 'liaison-a');
  await api(srv.url, a, 'POST', '/collections/zones/items', zone('Checkpoint buffer (draft)', 'draft', 35.95, 33.2));
  for (const [w, h] of [[1366, 768], [1920, 1080]]) {
    const page = await browser.newPage({ viewport: { width: w, height: h } });
    page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
    page.on('pageerror', (e) => console.log('pageerror:', e.message));
    await page.goto(srv.url + '/login');
    await page.screenshot({ path: path.join(out, `login-${w}.png`) });
    await page.fill('#login-user', 'liaison-a');
    await page.fill('#login-password', 'liaison-a');
    await page.click('button[type=submit]');
    await page.waitForSelector('#list li');
    await page.mouse.move(w / 2, h / 2);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(out, `viewer-${w}.png`) });
    if (w === 1366) {
      await page.click('#list li');
      await page.waitForTimeout(1200);
      await page.screenshot({ path: path.join(out, `viewer-popup-${w}.png`) });
      await page.reload();
      await page.waitForSelector('#list li');
      await page.click('.leaflet-pm-icon-polygon');
      for (const [x, y] of [[1000, 180], [1150, 200], [1100, 380]]) await page.mouse.click(x, y);
      await page.mouse.click(1000, 180);
      await page.waitForSelector('.modal');
      await page.screenshot({ path: path.join(out, `viewer-form-${w}.png`) });
      await page.click('.modal [data-act=cancel]');
      // a stale edit: the conflict dialog
      await page.click('#list li[data-key="zones/1"]');
      await page.click('.leaflet-popup button:has-text("Edit details")');
      await page.waitForSelector('.modal form');
      const cur = await api(srv.url, a, 'GET', '/collections/zones/items/1');
      await api(srv.url, a, 'PATCH', '/collections/zones/items/1', { properties: { title: 'Range North (extended)', altitude_ceiling_m: 4500 } },
        { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${cur.json.properties.version}"` });
      await page.fill('.modal [name=title]', 'Range North (closed)');
      await page.click('.modal [data-act=save]');
      await page.waitForSelector('.modal h2:has-text("Someone changed")');
      await page.screenshot({ path: path.join(out, `viewer-conflict-${w}.png`) });
      await page.click('.modal [data-act=reload]');
      await page.waitForFunction(() => !document.querySelector('.modal'));
      const slide = (ms) => page.$eval('#time-slider', (el, ms) => { el.value = window.FM.timeline.indexOf(ms); el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); }, ms);
      await slide(-3600e3);
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(out, `viewer-past-${w}.png`) });
      // ahead: a zone planned from 2 to 4 days on, drawn dotted at now and solid at +3 d
      const p = zone('Planned closure P-1', 'proposed', 35.63, 32.9);
      p.properties.valid_from = new Date(Date.now() + 2 * 86400e3).toISOString().slice(0, 19) + 'Z';
      p.properties.valid_to = new Date(Date.now() + 4 * 86400e3).toISOString().slice(0, 19) + 'Z';
      await api(srv.url, a, 'POST', '/collections/zones/items', p);
      await page.click('#time-now');
      await page.evaluate(() => window.fmMap.fitBounds(window.FM.AREA, { animate: false }));
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(out, `viewer-planned-now-${w}.png`) });
      await slide(3 * 86400e3);
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(out, `viewer-ahead-${w}.png`) });
      await page.click('#time-now');
      // the keyboard: a list row focused
      await page.waitForTimeout(500);
      await page.focus('#list li:nth-child(2)');
      await page.keyboard.press('ArrowDown');
      await page.screenshot({ path: path.join(out, `viewer-keyboard-${w}.png`) });
      // the legend open, then the position tools: a grid reference gone to, a distance measured
      await page.click('#legend-toggle');
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(out, `viewer-legend-${w}.png`) });
      await page.$eval('#legend-body', (el) => { el.scrollTop = el.scrollHeight; });
      await page.screenshot({ path: path.join(out, `viewer-legend-end-${w}.png`) });
      await page.click('#legend-toggle');
      await page.fill('#goto', '36S YB 71411 38385');
      await page.press('#goto', 'Enter');
      await page.waitForTimeout(1500);
      await page.click('#measure');
      await page.mouse.click(700, 300);
      await page.mouse.click(1000, 500);
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(out, `viewer-tools-${w}.png`) });
      await page.keyboard.press('Escape');
      await page.fill('#goto', '32°51 N 195 E');
      await page.press('#goto', 'Enter');
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(out, `viewer-goto-error-${w}.png`) });
    }
    await page.close();
  }
  // the item panel: B's convoy changed (route and window), disputed by A with a
  // long reason, answered in the thread (one message in Arabic), a ruling upheld
  const J = { 'Content-Type': 'application/json' };
  const b = await login(srv.url, 'liaison-b'), sup = await login(srv.url, 'supervisor');
  const convoy = (await api(srv.url, b, 'GET', '/collections/movements/items?limit=100')).json.features.find((f) => f.properties.party === 'B');
  const cid = convoy.id;
  await api(srv.url, b, 'PATCH', `/collections/movements/items/${cid}`, {
    geometry: { type: 'LineString', coordinates: [[35.64, 33.2], [35.8, 33.12], [35.9, 33.0], [36.1, 32.92]] },
    properties: { title: convoy.properties.title + ' (re-routed)', valid_to: new Date(Date.now() + 5 * 86400e3).toISOString().slice(0, 19) + 'Z' },
  }, { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${convoy.properties.version}"` });
  const why = 'The new route still runs through Range North while the exercise is live (live firing until 18:00 daily); hold at the checkpoint or take the southern road.';
  await api(srv.url, a, 'POST', `/collections/movements/items/${cid}/ack`, { decision: 'dispute', comment: why }, { ...J, 'If-Match': `"${convoy.properties.version + 1}"` });
  await api(srv.url, b, 'POST', `/collections/movements/items/${cid}/messages`, { text: 'The southern road is mined since Tuesday; we can hold until 18:00 and pass after.' }, J);
  await api(srv.url, a, 'POST', `/collections/movements/items/${cid}/messages`, { text: 'موافق: المرور بعد الساعة 18:00' }, J);
  await api(srv.url, sup, 'POST', `/collections/movements/items/${cid}/ruling`, { decision: 'uphold', reason: 'The convoy passes after 18:00 only: B sends a new window.' }, J);
  await api(srv.url, a, 'POST', '/channels/all/messages', { text: 'Range North live firing ends 18:00 today; convoy C-7 passes after.' }, J);
  for (const [w, h] of [[1366, 768], [1920, 1080]]) {
    for (const user of ['liaison-a', 'supervisor']) {
      const page = await browser.newPage({ viewport: { width: w, height: h } });
      page.on('pageerror', (e) => console.log('pageerror:', e.message));
      await page.goto(srv.url + '/login');
      await page.fill('#login-user', user);
      await page.fill('#login-password', user);
      await page.click('button[type=submit]');
      await page.waitForSelector('#list li');
      await page.click(`#list li[data-key="movements/${cid}"]`);
      await page.waitForSelector('.leaflet-popup button.details');
      await page.waitForTimeout(800);
      if (user === 'liaison-a' && w === 1366) await page.screenshot({ path: path.join(out, `viewer-popup-disputed-${w}.png`) });
      await page.click('.leaflet-popup button.details');
      await page.waitForSelector('#panel .ver');
      await page.waitForTimeout(1200);
      await page.screenshot({ path: path.join(out, `panel-${user}-${w}.png`) });
      await page.$eval('#panel', (el) => { el.scrollTop = el.scrollHeight; });
      await page.screenshot({ path: path.join(out, `panel-${user}-end-${w}.png`) });
      await page.close();
    }
  }

  const tok = execFileSync(process.env.FUSIONMAP || path.join(SRC, 'build/server/fusionmap'), ['token', 'add', 'viewer', '--db', db]).toString().trim();
  const wall = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  wall.on('pageerror', (e) => console.log('pageerror:', e.message));
  await wall.goto(srv.url + '/wall?token=' + tok);
  await wall.waitForSelector('#open li');
  // conflicts enough to page: zones of A and B overlapping
  for (const [i, lon] of [35.62, 35.67, 35.72, 35.77, 36.0, 36.05].entries()) {
    await api(srv.url, a, 'POST', '/collections/zones/items', zone(`Checkpoint ${i + 1} (A)`, 'proposed', lon, 33.36));
    await api(srv.url, b, 'POST', '/collections/zones/items', zone(`Observation post ${i + 1} (B)`, 'proposed', lon + 0.01, 33.365));
  }
  await api(srv.url, a, 'POST', '/collections/zones/items', zone('Evacuation corridor north', 'proposed', 35.7, 33.3));
  await waitFor(() => wall.evaluate(() => document.querySelectorAll('#ticker li').length > 0), 3000);
  await wall.waitForTimeout(1500);
  await wall.screenshot({ path: path.join(out, 'wall-1920.png') });
  await wall.reload();
  await waitFor(() => wall.evaluate(() => document.querySelectorAll('#ticker li').length > 0), 5000);
  await wall.waitForTimeout(1500);
  await wall.screenshot({ path: path.join(out, 'wall-reloaded-1920.png') });
  console.log('wall url after load:', wall.url());
  console.log('screenshots in', out);
} finally {
  await browser.close();
  await srv.kill();
}
