// witness.mjs - the liaison page checks the chain before it cosigns
// (issue 20, web/js/signing.js checkChain): it fetches the records since
// the head it cosigned last (GET /events/chain: what it may read in full,
// the rest as digests), hashes them with WebCrypto's SHA-256 and cosigns
// only when they join its saved head. Against the real server and a
// database changed while the server was down: a record edited after the
// head (not re-hashed), and the log rewritten before the head and re-hashed
// to the end (which the server itself would take: POST /heads checks only
// against its own records). Each time: a visible warning, no cosignature.
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, restartServer, tmpdir, login, api, zone, loadPlaywright, check, finish, BIN } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();
const db = path.join(dir, 'witness.db');
let srv = await startServer({ db });
const port = srv.port;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];
const G = { 'Content-Type': 'application/geo+json' };

// Changes the database (the server stopped): MODE "edit" changes record SEQ's
// after text and leaves every hash; "rewrite" moves record SEQ's time back a
// day and re-hashes the chain from it to the end (chain v2), as an operator would.
function tamper(mode, seq) {
  const py = `
import hashlib, json, sqlite3, sys
db, mode, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
c.execute("DROP TRIGGER IF EXISTS events_no_update")
sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
cols = "seq, at, user, party, action, collection, owner, item_id, version, before, after, prev_hash"
if mode == "edit":
    c.execute("UPDATE events SET after = replace(after, 'Witnessed', 'Rewritten') WHERE seq = ?", (seq,))
else:
    c.execute("UPDATE events SET at = at - 86400 WHERE seq = ?", (seq,))
    prev = c.execute("SELECT prev_hash FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    for r in c.execute("SELECT " + cols + " FROM events WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
        rec = dict(seq=r[0], at=r[1], user=r[2], party=r[3], action=r[4], collection=r[5], owner=r[6], item=r[7],
                   version=r[8], before=r[9], after=r[10])
        h = sha(prev + sha(json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)))
        c.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, r[0]))
        prev = h
c.commit()
`;
  execFileSync('/usr/bin/python3', ['-c', py, db, mode, String(seq)]);
}

const heads = async (cookie) => (await api(srv.url, cookie, 'GET', '/heads')).json.heads.filter((h) => h.party === 'A');
const witness = (page) => page.evaluate(async () => {
  const m = await import('/static/js/signing.js');
  try { return { head: await m.witness() }; } catch (e) { return { error: String(e) }; }
});
const warning = (page) => page.evaluate(() => {
  const w = document.getElementById('witness-warning');
  return w && w.getClientRects().length && getComputedStyle(w).visibility !== 'hidden' ? w.textContent : null;
});

try {
  let cookieA = await login(srv.url, 'liaison-a');
  const cookieB = await login(srv.url, 'liaison-b');
  await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Witnessed zone', 'proposed', 35.9, 33.1), G);

  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (process.env.FM_DEBUG_PAGE) console.log('page:', m.type(), m.text()); });
  await page.goto(srv.url + '/');
  await page.fill('#login-user', 'liaison-a');
  await page.fill('#login-password', 'liaison-a');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list li');

  // ---- an honest log: the page checks it from record 1 and cosigns ----
  const first = await witness(page);
  let mine = await heads(cookieA);
  check('the first witness pass checks the chain from record 1 and cosigns the head',
    first.head && mine.length === 1 && mine[0].seq === first.head.seq && !(await warning(page)), JSON.stringify(first));

  // B's drafts (hidden from A: digests in A's pass) and A's own new records
  await api(srv.url, cookieB, 'POST', '/collections/zones/items', zone('B draft unseen', 'draft', 35.7, 33.2), G);
  await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Witnessed too', 'proposed', 35.8, 33.3), G);
  await api(srv.url, cookieB, 'POST', '/collections/zones/items', zone('B draft unseen 2', 'draft', 35.6, 33.2), G);
  const chain = await api(srv.url, cookieA, 'GET', `/events/chain?since=${first.head.seq}`);
  const hidden = chain.json.records.filter((r) => r.digest && !r.action);
  check('GET /events/chain gives A the new records, B\'s drafts as digests alone (seq, digest, hash)',
    chain.status === 200 && hidden.length >= 2 && hidden.every((r) => Object.keys(r).sort().join() === 'digest,hash,seq') &&
    !chain.text.includes('B draft unseen'), chain.text.slice(0, 300));
  const second = await witness(page);
  mine = await heads(cookieA);
  check('the next pass hashes the records since its head (through the digests) and cosigns the new head',
    second.head && mine.length === 2 && second.head.seq > first.head.seq && !(await warning(page)), JSON.stringify(second));
  const saved = second.head;

  // ---- a record after the head edited, not re-hashed ----
  await api(srv.url, cookieA, 'POST', '/collections/zones/items', zone('Witnessed three', 'proposed', 35.85, 33.35), G);
  const third = (await api(srv.url, cookieA, 'GET', `/events/chain?since=${saved.seq}`)).json.records.find((r) => r.action === 'create');
  await srv.stop();
  fs.copyFileSync(db, db + '.clean');
  tamper('edit', third.seq);
  srv = await restartServer({ db, port, demo: false });
  cookieA = await login(srv.url, 'liaison-a');
  const r1 = await witness(page);
  const w1 = await warning(page);
  mine = await heads(cookieA);
  check(`a record after the head changed in the file (record ${third.seq}): a warning naming it, no cosignature`,
    r1.head === null && w1 && w1.includes(`record ${third.seq}`) && /Not cosigned/.test(w1) && mine.length === 2, `${JSON.stringify(r1)} ${w1}`);

  // ---- the same database untouched: no false alarm ----
  await srv.stop();
  fs.copyFileSync(db + '.clean', db);
  srv = await restartServer({ db, port, demo: false });
  cookieA = await login(srv.url, 'liaison-a');
  await page.evaluate(() => document.getElementById('witness-warning')?.remove());
  const ok = await witness(page);
  mine = await heads(cookieA);
  check('the untouched database again: the page cosigns (no false alarm)',
    ok.head && mine.length === 3 && !(await warning(page)), JSON.stringify(ok));
  const kept = ok.head;

  // ---- the log rewritten before the head and re-hashed to the end ----
  await srv.stop();
  tamper('rewrite', kept.seq - 3);
  srv = await restartServer({ db, port, demo: false });
  cookieA = await login(srv.url, 'liaison-a');
  const head = await api(srv.url, cookieA, 'GET', '/events/head');
  check('the re-hashed log is the server\'s own now: it offers its new head without complaint',
    head.status === 200 && head.json.seq >= kept.seq, head.text);
  const r2 = await witness(page);
  const w2 = await warning(page);
  mine = await heads(cookieA);
  check(`rewritten before the head and re-hashed: a warning that record ${kept.seq} is not the one cosigned, no cosignature`,
    r2.head === null && w2 && w2.includes(`record ${kept.seq} is not the one you cosigned`) && mine.length === 3,
    `${JSON.stringify(r2)} ${w2}`);
  const shot = path.join(dir, 'witness-warning.png');
  await page.screenshot({ path: shot });
  if (process.env.FM_SCREENSHOT_DIR) fs.copyFileSync(shot, path.join(process.env.FM_SCREENSHOT_DIR, 'witness-warning.png'));
  const v = (() => { try { return execFileSync(BIN, ['events', 'verify', '--db', db]).toString(); } catch (e) { return String(e.stdout); } })();
  check('and events verify, on the server\'s side, names the rewrite too (its cosigned heads)', /^BROKEN at record/.test(v), v);
  check('no page errors', errors.length === 0, errors.join(' | '));
} catch (e) {
  check('no exception', false, e.stack + '\n' + srv.log().slice(-2000));
} finally {
  await browser.close();
  await srv.stop();
}
finish();
