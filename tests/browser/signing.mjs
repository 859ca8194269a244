// signing.mjs - signed answers made in headless Chromium (issue 20,
// web/js/signing.js): B's browser makes a non-extractable Ed25519 key with
// WebCrypto, keeps it in IndexedDB and registers its public half; the
// Acknowledge button shows the statement in words and sends nothing until
// confirmed; the signed answer is taken by the server and verifies offline
// with `fusionmap events verify` (database and export) and with Python
// (tests/verify_export.py); a dispute from the same browser signs with
// the same key.
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, tmpdir, login, api, zone, loadPlaywright, check, finish, BIN, SRC } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();
const db = path.join(dir, 'signing.db');
const srv = await startServer({ db });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];
const G = { 'Content-Type': 'application/geo+json' };

try {
  const cookieA = await login(srv.url, 'liaison-a');
  const cookieB = await login(srv.url, 'liaison-b');
  const made = await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Signed in the browser', 'proposed', 35.9, 33.1), G);
  const id = made.json.id, key = 'zones/' + id;

  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(srv.url + '/');
  await page.fill('#login-user', 'liaison-b');
  await page.fill('#login-password', 'liaison-b');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector(`#list li[data-key="${key}"]`);

  const support = await page.evaluate(async () => {
    try {
      const k = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      return { ok: true, extractable: k.privateKey.extractable };
    } catch (e) { return { ok: false, e: String(e) }; }
  });
  check('this Chromium\'s WebCrypto makes non-extractable Ed25519 keys', support.ok && support.extractable === false, JSON.stringify(support));

  // ---- Acknowledge: the statement in words, nothing sent before "Sign and send" ----
  const openAck = async () => {
    await page.click(`#list li[data-key="${key}"]`);
    await page.waitForSelector('.leaflet-popup button:has-text("Acknowledge")');
    await page.click('.leaflet-popup button:has-text("Acknowledge")');
    await page.waitForSelector('.modal .statement', { timeout: 10000 });
  };
  await openAck();
  const words = await page.textContent('.modal .statement');
  check('Acknowledge shows the statement in words first (who, party, version, item, title)',
    /liaison-b/.test(words) && /party B/.test(words) && /acknowledge/.test(words) && /version 1/.test(words) &&
    new RegExp(`zones item ${id}`).test(words) && /Signed in the browser/.test(words), words);
  const shot = path.join(dir, 'signing-confirm.png');
  await page.screenshot({ path: shot });
  if (process.env.FM_SCREENSHOT_DIR) fs.copyFileSync(shot, path.join(process.env.FM_SCREENSHOT_DIR, 'signing-confirm.png'));
  const none = await api(srv.url, cookieB, 'GET', `/collections/zones/items/${id}/acks`);
  check('nothing is sent while the statement waits for confirmation', none.status === 200 && none.json.acks.length === 0, none.text);
  await page.click('.modal button:has-text("Cancel")');
  await page.waitForFunction(() => !document.querySelector('.modal'));
  const still = await api(srv.url, cookieB, 'GET', `/collections/zones/items/${id}/acks`);
  check('Cancel sends nothing', still.json.acks.length === 0, still.text);

  await openAck();
  await page.click('.modal button:has-text("Sign and send")');
  await page.waitForSelector('#toast:has-text("Acknowledged")', { timeout: 10000 });
  const acks = await api(srv.url, cookieB, 'GET', `/collections/zones/items/${id}/acks`);
  const now = await api(srv.url, cookieB, 'GET', `/collections/zones/items/${id}`);
  check('the signed acknowledgement is taken: the zone is active', acks.json.acks.length === 1 && now.json.properties.status === 'active',
    acks.text + ' ' + now.json.properties.status);

  // ---- the page then witnesses the log: B's head, cosigned with the same browser key ----
  let heads = null;
  for (const end = Date.now() + 15000; Date.now() < end;) {
    heads = await api(srv.url, cookieB, 'GET', '/heads');
    if (heads.json.heads.some((h) => h.party === 'B')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const ackSeq = (await api(srv.url, cookieB, 'GET', '/events/log?limit=10000')).json.events.filter((e) => e.action === 'ack').pop();
  const headB = heads.json.heads.find((h) => h.party === 'B');
  check('after the signed answer the page cosigns the log\'s head (B), which covers the answer',
    !!headB && headB.user === 'liaison-b' && ackSeq && headB.seq >= ackSeq.seq, heads.text);

  // ---- the key: registered, kept in IndexedDB, its private half unreadable ----
  const keys = await api(srv.url, cookieB, 'GET', '/keys');
  const kept = await page.evaluate(async () => {
    const db = await new Promise((res, rej) => { const o = indexedDB.open('fusionmap-keys', 1); o.onsuccess = () => res(o.result); o.onerror = () => rej(o.error); });
    const k = await new Promise((res) => { const r = db.transaction('keys').objectStore('keys').get('liaison-b'); r.onsuccess = () => res(r.result); });
    db.close();
    let exported = 'refused';
    try { await crypto.subtle.exportKey('pkcs8', k.privateKey); exported = 'EXPORTED'; } catch (e) { /* as it must */ }
    return { fingerprint: k.fingerprint, type: k.privateKey.type, extractable: k.privateKey.extractable, exported };
  });
  check('B\'s one key is registered and is the one IndexedDB keeps', keys.json.keys.length === 1 && keys.json.keys[0].fingerprint === kept.fingerprint &&
    !keys.json.keys[0].revoked, JSON.stringify(keys.json) + ' ' + JSON.stringify(kept));
  check('its private key is a non-extractable CryptoKey (export refused)', kept.type === 'private' && kept.extractable === false && kept.exported === 'refused',
    JSON.stringify(kept));

  // ---- a dispute from the same browser: the same key ----
  const made2 = await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Disputed in the browser', 'proposed', 35.95, 33.15), G);
  const key2 = 'zones/' + made2.json.id;
  await page.waitForSelector(`#list li[data-key="${key2}"]`);
  await page.click(`#list li[data-key="${key2}"]`);
  await page.waitForSelector('.leaflet-popup button:has-text("Dispute")');
  await page.click('.leaflet-popup button:has-text("Dispute")');
  await page.fill('.modal textarea', 'overlaps our supply route');
  await page.click('.modal [data-act=ok]');
  await page.waitForSelector('.modal .statement:has-text("dispute")', { timeout: 10000 });
  await page.click('.modal button:has-text("Sign and send")');
  await page.waitForSelector('#toast:has-text("Disputed")', { timeout: 10000 });
  const keys2 = await api(srv.url, cookieB, 'GET', '/keys');
  const d = await api(srv.url, cookieB, 'GET', `/collections/zones/items/${made2.json.id}`);
  check('a dispute from the same browser is signed with the same key (still one key)', d.json.properties.status === 'disputed' &&
    keys2.json.keys.length === 1, JSON.stringify(keys2.json));

  // ---- and an unsigned answer by B is now refused ----
  const made3 = await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Unsigned refused', 'proposed', 35.85, 33.2), G);
  const bare = await api(srv.url, cookieB, 'POST', `/collections/zones/items/${made3.json.id}/ack`, { decision: 'ack' },
    { 'Content-Type': 'application/json', 'If-Match': '"1"' });
  check('B, who has a key now, cannot answer unsigned (409)', bare.status === 409, bare.text);

  // ---- offline: events verify, from the database and from an export; and Python ----
  const run = (args) => { try { return execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { return 'FAILED ' + e.stdout + e.stderr; } };
  const vdb = run(['events', 'verify', '--db', db]);
  check('events verify on the database: the browser\'s signatures verify', /^ok: /.test(vdb), vdb);
  check('and the chain passes through the heads the browser cosigned', /ok: the chain passes through [1-9]\d* cosigned heads/.test(vdb), vdb);
  const exp = path.join(dir, 'export.jsonl');
  run(['events', 'export', '--db', db, '--out', exp]);
  const vfile = run(['events', 'verify', '--file', exp]);
  check('events verify --file on an export: 2 signed answers verify', /ok: 2 signed answers verify/.test(vfile), vfile);
  let py = 'not run';
  try {
    py = execFileSync('/usr/bin/python3', [path.join(SRC, 'tests/verify_export.py'), exp], { encoding: 'utf8' });
  } catch (e) { py = 'FAILED ' + e.stdout + e.stderr; }
  if (/No module named 'nacl'/.test(py)) console.log('SKIP - python3-nacl is not installed');
  else check('tests/verify_export.py (JCS + Ed25519 in Python) verifies them too', /2 signed answers verify/.test(py), py);
  // ---- the new-key notice: a key registered for B elsewhere is told at the next login ----
  const kf = path.join(dir, 'elsewhere.key');
  const pubOut = JSON.parse(execFileSync(BIN, ['key', 'new', '--out', kf], { encoding: 'utf8' }));
  const regd = await api(srv.url, cookieB, 'POST', '/keys', { public_key: pubOut.public_key }, { 'Content-Type': 'application/json' });
  await page.reload();
  let notice = '';
  try {
    await page.waitForSelector('.modal .new-keys', { timeout: 15000 });
    notice = await page.textContent('.modal');
  } catch (e) { notice = 'no notice: ' + e.message; }
  const nshot = path.join(dir, 'signing-newkey.png');
  await page.screenshot({ path: nshot });
  if (process.env.FM_SCREENSHOT_DIR) fs.copyFileSync(nshot, path.join(process.env.FM_SCREENSHOT_DIR, 'signing-newkey.png'));
  check('a key registered for B elsewhere is told at the next login, and only that one (not the browser\'s own)',
    regd.status === 201 && notice.includes(pubOut.fingerprint.slice(0, 16)) && notice.includes('liaison-b') &&
    (notice.match(/key /g) || []).length === 1, notice);
  await page.click('.modal button:has-text("I have read this")');
  await page.reload();
  await page.waitForSelector('#who', { timeout: 15000 });
  await new Promise((r) => setTimeout(r, 1500));
  check('it is told once: the next login shows no notice', !(await page.$('.modal .new-keys')));
  const partyA = await api(srv.url, cookieA, 'GET', '/keys?party=1');
  check('GET /keys?party=1 lists the caller\'s party\'s keys only (A sees none of B\'s)',
    partyA.status === 200 && !partyA.text.includes(pubOut.fingerprint) && !partyA.text.includes('liaison-b'), partyA.text);
  check('no page errors', errors.length === 0, errors.join(' | '));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.stop();
}
finish();
