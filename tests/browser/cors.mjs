// cors.mjs - a page of another origin in headless Chromium calls the API
// with a bearer token (issue 22): from an origin listed with --cors-origin
// the preflight passes, the items arrive and the exposed ETag is readable,
// a write goes through, and the event stream opens with a ticket
// (EventSource sends no headers) and delivers a change; from an unlisted
// origin every one of these fails in the browser; the cookie is never
// lent to a listed origin.
import path from 'node:path';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startServer, tmpdir, zone, loadPlaywright, waitFor, check, finish, BIN } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();

// two tiny static servers: the listed origin and an unlisted one
function pageServer() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>another origin</title><p>a page of another origin</p>');
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}
const listed = await pageServer();
const unlisted = await pageServer();
const LISTED = `http://127.0.0.1:${listed.address().port}`;
const UNLISTED = `http://127.0.0.1:${unlisted.address().port}`;
const db = path.join(dir, 'cors.db');
const srv = await startServer({ db, args: ['--cors-origin', LISTED] });
const FM = srv.url;
const token = execFileSync(BIN, ['token', 'add', 'liaison-a', '--db', db]).toString().trim();
const auth = { Authorization: 'Bearer ' + token };
const zones = await (await fetch(FM + '/collections/zones/items', { headers: auth })).json();

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];

// In a page of `origin`: reads the zones, one zone's ETag, writes a zone.
async function tryFrom(page) {
  return page.evaluate(async ({ FM, token, z }) => {
    const out = {};
    const h = { Authorization: 'Bearer ' + token };
    try {
      const r = await fetch(FM + '/collections/zones/items', { headers: h });
      out.status = r.status;
      out.count = (await r.json()).features.length;
    } catch (e) { out.error = String(e); }
    try {
      const r = await fetch(FM + '/collections/zones/items/1', { headers: h });
      out.etag = r.headers.get('ETag');
    } catch (e) { out.etagError = String(e); }
    try {
      const r = await fetch(FM + '/collections/zones/items', {
        method: 'POST', headers: { ...h, 'Content-Type': 'application/geo+json' }, body: JSON.stringify(z),
      });
      out.post = r.status;
      out.location = r.headers.get('Location');
    } catch (e) { out.postError = String(e); }
    return out;
  }, { FM, token, z: zone('from another origin') });
}

// In a page: a ticket (bearer), then EventSource; resolves to what happened.
async function streamFrom(page, ticketUrl) {
  return page.evaluate(async ({ FM, token, ticketUrl }) => {
    let url = ticketUrl;
    if (!url) {
      const r = await fetch(FM + '/events/ticket', { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
      url = (await r.json()).url;
    }
    window.fmEvents = [];
    return new Promise((resolve) => {
      const es = new EventSource(url);
      window.fmSource = es;
      es.addEventListener('position', () => resolve('open'));
      es.addEventListener('change', (e) => window.fmEvents.push(JSON.parse(e.data)));
      es.onmessage = (e) => window.fmEvents.push(JSON.parse(e.data));
      es.onerror = () => { if (es.readyState === EventSource.CLOSED) resolve('closed'); };
      setTimeout(() => resolve('timeout'), 5000);
    });
  }, { FM, token, ticketUrl });
}

try {
  const ctx = await browser.newContext();
  const good = await ctx.newPage();
  good.on('pageerror', (e) => errors.push(e.message));
  await good.goto(LISTED + '/');
  const g = await tryFrom(good);
  check(`a listed origin's page reads the zones with a bearer token (${g.count} of ${zones.features.length})`,
    g.status === 200 && g.count === zones.features.length, JSON.stringify(g));
  check('... reads the exposed ETag', /^"\d+"$/.test(g.etag || ''), JSON.stringify(g));
  check('... and writes (a preflighted POST with Content-Type and Authorization): 201 and its Location',
    g.post === 201 && /\/collections\/zones\/items\/\d+$/.test(g.location || ''), JSON.stringify(g));

  const opened = await streamFrom(good);
  check('... opens the event stream with a ticket (EventSource, no headers)', opened === 'open', opened);
  const made = await fetch(FM + '/collections/zones/items', {
    method: 'POST', headers: { ...auth, 'Content-Type': 'application/geo+json' }, body: JSON.stringify(zone('seen live')),
  });
  const seen = made.status === 201 && await waitFor(() => good.evaluate(() => JSON.stringify(window.fmEvents).includes('seen live')), 5000, 'the change on the stream').catch(() => false);
  check('... and the stream delivers a change made elsewhere', !!seen, String(made.status));
  await good.evaluate(() => window.fmSource.close());

  // the cookie is this server's: a listed origin cannot use it
  const login = await fetch(FM + '/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'liaison-a', password: 'liaison-a' }) });
  const sid = login.headers.get('set-cookie').split(';')[0].split('=')[1];
  await ctx.addCookies([{ name: 'fm_session', value: sid, url: FM }]);
  const withCookie = await good.evaluate(async (FM) => {
    try {
      const r = await fetch(FM + '/me', { credentials: 'include' });
      return 'read ' + r.status;
    } catch (e) { return 'refused'; }
  }, FM);
  check('a credentialed (cookie) fetch from a listed origin is refused by the browser (no Allow-Credentials)',
    withCookie === 'refused', withCookie);

  // the viewer's own page, not logged in: its fetch gets 401 offering no
  // Basic, so Chromium pops up no login box (Sec-Fetch-Mode: cors)
  const own = await ctx.newPage();
  await own.goto(FM + '/login');
  const challenge = await own.evaluate(async () => {
    const r = await fetch('/collections', { credentials: 'omit' });
    return r.status + ' ' + r.headers.get('WWW-Authenticate');
  });
  check('a script on this server\'s own page gets 401 without a Basic challenge (no browser login box)',
    /^401 /.test(challenge) && /Bearer/.test(challenge) && !/Basic/.test(challenge), challenge);
  await own.close();

  const bad = await ctx.newPage();
  bad.on('pageerror', (e) => errors.push(e.message));
  await bad.goto(UNLISTED + '/');
  const b = await tryFrom(bad);
  check('an unlisted origin\'s page cannot read the zones', b.error && b.status === undefined, JSON.stringify(b));
  check('... nor write (the preflight fails: the POST is never sent)', b.postError && b.post === undefined, JSON.stringify(b));
  const after = await (await fetch(FM + '/collections/zones/items', { headers: auth })).json();
  check('... and nothing was written from it (one zone from the listed page, one made here)',
    after.features.length === zones.features.length + 2, `${after.features.length} vs ${zones.features.length}`);
  const t = await (await fetch(FM + '/events/ticket', { method: 'POST', headers: auth })).json();
  const badStream = await streamFrom(bad, t.url);
  check('... nor open the event stream, even with a good ticket', badStream === 'closed', badStream);
  await ctx.close();
  check('no script errors in the pages', errors.length === 0, errors.join('\n'));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.kill();
  listed.close();
  unlisted.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
