// wall.mjs - the wall page in headless Chromium: opened with a read-only
// token (which leaves the address bar), it updates live, shows
// "reconnecting" while the server is down, and keeps updating after the
// server is killed and restarted on the same port and database; its lists
// show the newest first, scroll and page by themselves so every counted row
// is reachable; the ticker speaks in titles and party names, never ids, and
// is filled again from the event log after a reload; memory stays flat.
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, restartServer, tmpdir, login, api, zone, loadPlaywright, check, finish, BIN } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();
const db = path.join(dir, 'wall.db');
let srv = await startServer({ db });
const port = srv.port;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];
const tickerHas = (text) => [...document.querySelectorAll('#ticker li')].some((li) => li.textContent.includes(text));

try {
  // a liaison's token may not open a wall
  const liaisonTok = execFileSync(BIN, ['token', 'add', 'liaison-a', '--db', db]).toString().trim();
  const bad = await fetch(srv.url + '/login/token', { method: 'POST', headers: { Authorization: 'Bearer ' + liaisonTok } });
  check('a liaison\'s token cannot be traded for a wall session (403)', bad.status === 403);

  const tok = execFileSync(BIN, ['token', 'add', 'viewer', '--db', db]).toString().trim();
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/wall?token=${tok}`);
  await page.waitForSelector('#conn.live');
  check('the token leaves the address bar', !page.url().includes(tok) && page.url().endsWith('/wall'), page.url());
  // the list fills after the stream goes live (under ASan, seconds later)
  await page.waitForSelector('#open li:not(.none)', { timeout: 10000 }).catch(() => {});
  check('the wall lists open items', (await page.$$('#open li:not(.none)')).length > 0);
  check('the wall shows the UTC clock', /^\d\d:\d\d:\d\d$/.test(await page.textContent('#utc')));
  // the demo's open conflict is listed; a click flies to it
  await page.waitForSelector('#conflicts li[data-i]', { timeout: 5000 }).catch(() => {});
  const zoom0 = await page.evaluate(() => window.fmWall.map.getZoom());
  const moved = page.evaluate(() => new Promise((r) => {
    window.fmWall.map.once('moveend', () => r(window.fmWall.map.getZoom()));
    setTimeout(() => r(-1), 5000);
  }));
  await page.click('#conflicts li[data-i]').catch(() => {});
  const zoom1 = await moved;
  check(`the wall lists an open conflict and a click flies to it (zoom ${zoom0} -> ${zoom1})`,
    (await page.$$('#conflicts li[data-i]')).length > 0 && zoom1 > zoom0);

  let a = await login(srv.url, 'liaison-a');
  await api(srv.url, a, 'POST', '/collections/zones/items', zone('Wall sees this', 'proposed'));
  await page.waitForFunction(tickerHas, 'Wall sees this', { timeout: 2000 });
  check('a new zone reaches the wall\'s ticker within 2 s', true);
  check('and its open list', (await page.textContent('#open')).includes('Wall sees this'));

  // ---- labels that never overlap, lists in a stable order --------------------------
  // a crowd at the top of the area: six pairs of zones of A and B side by side
  const b0 = await login(srv.url, 'liaison-b');
  for (const [i, lon] of [35.62, 35.67, 35.72, 35.77, 36.0, 36.05].entries()) {
    await api(srv.url, a, 'POST', '/collections/zones/items', zone(`Checkpoint ${i + 1} (A)`, 'proposed', lon, 33.36));
    await api(srv.url, b0, 'POST', '/collections/zones/items', zone(`Observation post ${i + 1} (B)`, 'proposed', lon + 0.01, 33.365));
  }
  await page.waitForFunction(() => document.querySelector('#open').textContent.includes('Observation post 6 (B)'), null, { timeout: 5000 }).catch(() => {});
  // the whole area again (the click above flew to a conflict)
  await page.evaluate(() => window.fmWall.map.fitBounds(window.FM.AREA, { padding: [20, 20], animate: false }));
  await page.waitForTimeout(500);
  const lbl = await page.evaluate(() => {
    const box = document.querySelector('#map').getBoundingClientRect();
    const all = [...document.querySelectorAll('.leaflet-tooltip.lbl')];
    const shown = all.filter((el) => getComputedStyle(el).visibility !== 'hidden').map((el) => {
      const r = el.getBoundingClientRect();
      return { t: el.textContent, l: r.left, t0: r.top, r: r.right, b: r.bottom, px: parseFloat(getComputedStyle(el).fontSize) };
    });
    let overlaps = 0, outside = 0;
    for (let i = 0; i < shown.length; i++) {
      const p = shown[i];
      if (p.l < box.left || p.t0 < box.top || p.r > box.right || p.b > box.bottom) outside++;
      for (let j = i + 1; j < shown.length; j++) {
        const q = shown[j];
        if (p.l < q.r && p.r > q.l && p.t0 < q.b && p.b > q.t0) overlaps++;
      }
    }
    return { total: all.length, shown: shown.length, overlaps, outside, minPx: Math.min(...shown.map((x) => x.px)), names: shown.map((x) => x.t) };
  });
  check(`no two wall labels overlap (${lbl.shown} of ${lbl.total} shown, the rest hidden until there is room)`,
    lbl.overlaps === 0 && lbl.outside === 0 && lbl.shown >= 4 && lbl.shown < lbl.total, JSON.stringify(lbl));
  check(`wall labels are readable across a room: at least 24 px at 1920 px wide (${lbl.minPx} px)`, lbl.minPx >= 24, JSON.stringify(lbl));
  // both lists: newest first, ties (the same second) by collection and id, both descending
  const order = await page.evaluate(() => {
    const keys = [...document.querySelectorAll('#open li[data-key]')].map((li) => li.dataset.key);
    const fs = keys.map((k) => window.fmWall.items.get(k));
    const want = [...fs].sort((x, y) => ((x.properties.status === 'disputed' ? -1 : 0) - (y.properties.status === 'disputed' ? -1 : 0)) ||
      String(y.properties.updated_at).localeCompare(String(x.properties.updated_at)) || y.coll.localeCompare(x.coll) || Number(y.id) - Number(x.id));
    const ties = fs.filter((f, i) => i && f.properties.updated_at === fs[i - 1].properties.updated_at).length;
    const conflicts = [...document.querySelectorAll('#conflicts li[data-id]')].map((li) => Number(li.dataset.id));
    return { same: keys.join() === want.map((f) => f.coll + '/' + f.id).join(), ties, n: keys.length, conflicts };
  });
  check(`the waiting list is newest first, ties by collection and id (${order.n} rows, ${order.ties} ties)`, order.same && order.ties > 0, JSON.stringify(order));
  check(`the conflict list is newest first (${order.conflicts.length} rows: ids ${order.conflicts.slice(0, 6).join(', ')}...)`,
    order.conflicts.length >= 6 && order.conflicts.every((id, i) => !i || id < order.conflicts[i - 1]), JSON.stringify(order.conflicts));

  // ---- the server dies and comes back on the same port and database ----------
  await srv.kill();
  await page.waitForSelector('#conn.reconnecting', { timeout: 10000 });
  await page.waitForSelector('#stale:not([hidden])');
  check('the wall says RECONNECTING while the server is down', /RECONNECTING/.test(await page.textContent('#stale')));
  srv = await restartServer({ db, port });
  a = await login(srv.url, 'liaison-a');
  // a change made while the wall is still reconnecting is caught up
  await api(srv.url, a, 'POST', '/collections/zones/items', zone('Made during the outage', 'proposed'));
  await page.waitForSelector('#conn.live', { timeout: 20000 });
  await page.waitForFunction(tickerHas, 'Made during the outage', { timeout: 5000 });
  check('after the restart the wall catches up with what it missed', true);
  await api(srv.url, a, 'POST', '/collections/zones/items', zone('After the restart', 'proposed'));
  await page.waitForFunction(tickerHas, 'After the restart', { timeout: 2000 });
  check('and keeps updating live', (await page.textContent('#open')).includes('After the restart'));
  check('the stale banner is gone', await page.$eval('#stale', (el) => el.hidden));

  // ---- conflicts: the newest first, every one listed ---------------------------
  // seven overlaps of an A zone and a B zone, one after another
  const b = await login(srv.url, 'liaison-b');
  const spots = [35.62, 35.67, 35.72, 35.77, 35.82, 36.0, 36.05];
  for (let i = 0; i < spots.length; i++) {
    await api(srv.url, a, 'POST', '/collections/zones/items', zone(`Pair ${i} west`, 'proposed', spots[i], 33.33));
    const r = await api(srv.url, b, 'POST', '/collections/zones/items', zone(`Pair ${i} east`, 'proposed', spots[i] + 0.01, 33.335));
    check(`B's zone ${i} is saved`, r.status === 201, r.text.slice(0, 200));
  }
  const last = spots.length - 1;
  await page.waitForFunction((t) => (document.querySelector('#conflicts li')?.textContent || '').includes(t), `Pair ${last} `, { timeout: 5000 }).catch(() => {});
  const cl = await page.evaluate(() => ({
    count: Number(document.querySelector('#conflict-count').textContent),
    rows: [...document.querySelectorAll('#conflicts li[data-i] .t')].map((e) => e.textContent),
  }));
  check(`the wall's conflict list starts with the newest (${cl.rows[0]})`, /Pair 6 (west|east) × Pair 6 (west|east)/.test(cl.rows[0] || ''), cl.rows.join(' | '));
  check(`and lists every counted conflict (${cl.rows.length} of ${cl.count})`, cl.count >= 8 && cl.rows.length === cl.count);
  const said = await page.evaluate(() => [...document.querySelectorAll('#ticker li')].map((li) => li.textContent));
  check('the ticker says "New conflict: <title> and <title>"', said.some((t) => /New conflict: Pair 6 (west|east) and Pair 6 (west|east)/.test(t)), said.join(' | '));
  check('and who did what by party name and title ("Side B proposed zone “Pair 6 east”")', said.some((t) => t.includes('Side B proposed zone “Pair 6 east”')), said.join(' | '));
  const ids = said.filter((t) => /\b(zones?|incidents?|movements?|conflicts?|item) #?\d+\b|conflict_open|liaison-|\(A\)|\(B\)/i.test(t.replace(/^\d\d:\d\d/, '')));
  check('no ticker line shows an internal id, a login or an action code', ids.length === 0, ids.join(' | '));

  // ---- bounded: many events keep the ticker short; the lists scroll -------------
  for (let i = 0; i < 40; i++) await api(srv.url, a, 'POST', '/collections/zones/items', zone(`burst ${i}`, 'proposed'));
  await page.waitForFunction(tickerHas, 'burst 39', { timeout: 5000 });
  const n = await page.evaluate(() => ({ ticker: document.querySelectorAll('#ticker li').length, mem: window.fmWall.ticker.length,
    open: document.querySelectorAll('#open li').length, counted: Number(document.querySelector('#open-count').textContent) }));
  check('the ticker stays bounded', n.ticker <= 12 && n.mem <= 12, JSON.stringify(n));
  check(`"waiting for acknowledgement" lists every counted row (${n.open} of ${n.counted})`, n.counted > 40 && n.open === n.counted, JSON.stringify(n));
  // every row can be brought into view: the list's box is on screen and it scrolls to its last row
  const reach = await page.evaluate(() => {
    const ul = document.querySelector('#open'), box = ul.getBoundingClientRect(), ticker = document.querySelector('.ticker').getBoundingClientRect();
    const saved = ul.scrollTop;
    ul.scrollTop = ul.scrollHeight;
    const lastRow = ul.lastElementChild.getBoundingClientRect(), after = ul.getBoundingClientRect();
    ul.scrollTop = saved;
    return { boxBottom: box.bottom, tickerTop: ticker.top, lastBottom: lastRow.bottom, listBottom: after.bottom,
      scrolls: ul.scrollHeight > ul.clientHeight && /auto|scroll/.test(getComputedStyle(ul).overflowY) };
  });
  check('the list\'s box ends above the ticker and scrolls to its last row', reach.scrolls && reach.boxBottom <= reach.tickerTop + 1 &&
    reach.lastBottom <= reach.listBottom + 1, JSON.stringify(reach));
  // left alone, the list pages by itself
  const top0 = await page.$eval('#open', (ul) => ul.scrollTop);
  const paged = await page.waitForFunction((t0) => document.querySelector('#open').scrollTop !== t0, top0, { timeout: 15000 }).then(() => true, () => false);
  const pageNote = await page.evaluate(() => document.querySelector('#open-page')?.textContent || '');
  check('left alone, the waiting list pages by itself, and says which rows are shown', paged && /\d+–\d+ of \d+/.test(pageNote), pageNote);

  // ---- flat memory: the same item changed again and again ---------------------
  const cdp = await page.context().newCDPSession(page);
  const made = await api(srv.url, a, 'POST', '/collections/zones/items', zone('changing', 'proposed', 35.65, 32.65));
  let version = made.json.properties.version;
  const churn = async (n, tag) => {
    for (let i = 0; i < n; i++) {
      const r = await api(srv.url, a, 'PATCH', `/collections/zones/items/${made.json.id}`, { properties: { title: `${tag} ${i}` } },
        { 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${version}"` });
      version = r.json.properties.version;
    }
    await page.waitForFunction(tickerHas, `${tag} ${n - 1}`, { timeout: 5000 }).catch(async (e) => {
      throw new Error(e.message + '\nticker: ' + (await page.evaluate(() => [...document.querySelectorAll('#ticker li')].map((li) => li.textContent).join(' | '))));
    });
  };
  const measure = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    /* tile images come and go with loading, and Leaflet opens a permanent
     * label only for a layer it has drawn: count everything else, and the
     * labels against the items */
    const nodes = await page.evaluate(() => [...document.querySelectorAll('*')].filter((el) => !el.closest('.leaflet-tile-pane, .leaflet-tooltip-pane')).length);
    const layers = await page.evaluate(() => window.fmWall.layers.size === window.fmWall.items.size &&
      document.querySelectorAll('.leaflet-tooltip-pane > *').length <= window.fmWall.items.size);
    return { heap, nodes, layers };
  };
  await churn(100, 'warm');
  const m0 = await measure();
  await churn(200, 'churn');
  const m1 = await measure();
  console.log(`# wall after 100 and 300 changes: heap ${(m0.heap / 1048576).toFixed(1)} -> ${(m1.heap / 1048576).toFixed(1)} MB, DOM nodes ${m0.nodes} -> ${m1.nodes}`);
  check('200 more changes do not grow the DOM', m1.nodes - m0.nodes <= 5, `${m0.nodes} -> ${m1.nodes}`);
  check('and the JS heap flat (under 2 MB growth)', m1.heap - m0.heap < 2 * 1048576, `${m0.heap} -> ${m1.heap}`);
  check('one map layer and at most one label per item', m1.layers);

  // ---- after a reload, the ticker is filled from the event log ------------------
  await page.reload();
  await page.waitForSelector('#conn.live');
  await page.waitForFunction(tickerHas, 'churn 199', { timeout: 5000 }).catch(() => {});
  const again = await page.evaluate(() => [...document.querySelectorAll('#ticker li')].map((li) => li.textContent));
  check(`after a reload the ticker shows the latest records (${again.length} lines)`, again.length >= 5 && again[0].includes('“churn 199”') &&
    again[0].includes('Side A'), again.slice(0, 3).join(' | '));
  check('no script errors on the wall', errors.length === 0, errors.join('\n'));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
