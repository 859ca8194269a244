// harness.mjs - what the stream and browser tests share: start the real
// fusionmap binary (port 0, or a given port for a restart), log in, a small
// Server-Sent Events client, waiting for a condition, and test reporting.
//
// FUSIONMAP names the binary (CTest passes it); FM_SOURCE_DIR the source.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';

export const SRC = process.env.FM_SOURCE_DIR || path.resolve(new URL('../..', import.meta.url).pathname);
export const BIN = process.env.FUSIONMAP || path.join(SRC, 'build/server/fusionmap');

// Exits 77 (CTest: skipped, with the reason) when playwright-core is absent.
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    console.log('SKIP: playwright-core is not installed (run npm ci in the source folder)');
    process.exit(77);
  }
}

export function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fmbrowser.'));
}

// Starts `fusionmap serve`; resolves to {url, port, proc, db, stop(), kill()}.
export function startServer({ db, port = 0, demo = true, args = [], env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const argv = ['serve', '--db', db, '--port', String(port), ...(demo ? ['--demo'] : []), ...args];
    const proc = spawn(BIN, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + err)), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/[0-9.]+:(\d+)/);
      if (m && timer) {
        clearTimeout(timer);
        const srv = {
          url: m[0], port: Number(m[1]), proc, db, log: () => err,
          stop: () => stopProc(proc, 'SIGTERM'),
          kill: () => stopProc(proc, 'SIGKILL'),
        };
        resolve(srv);
      }
    });
    proc.stderr.on('data', (d) => { err += d; if (err.length > 200000) err = err.slice(-100000); });
    proc.on('exit', (code) => { if (!out.match(/http:/)) reject(new Error(`server exited ${code}: ${err}`)); });
  });
}

function stopProc(proc, sig) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill(sig);
  });
}

// A port that was just in use may linger in TIME_WAIT; retry for a while.
export async function restartServer(opts) {
  let last;
  for (let i = 0; i < 50; i++) {
    try { return await startServer(opts); } catch (e) { last = e; await delay(100); }
  }
  throw last;
}

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until fn() returns a truthy value (polled), or throws after ms.
export async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + (what || fn.toString()));
    await delay(25);
  }
}

// Logs in; resolves to the cookie header value "fm_session=...".
export async function login(url, user, password = user) {
  const res = await fetch(url + '/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  if (res.status !== 200) throw new Error(`login ${user}: ${res.status}`);
  return res.headers.get('set-cookie').split(';')[0];
}

// fetch with the session cookie (and the header state-changing requests need).
export async function api(url, cookie, method, p, body, headers = {}) {
  const res = await fetch(url + p, {
    method,
    headers: {
      Cookie: cookie, 'X-Requested-With': 'fusionmap',
      ...(body ? { 'Content-Type': 'application/geo+json' } : {}), ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers, text };
}

// A signed answer as a script makes one (issue 20): a node Ed25519 key per
// session, registered with POST /keys the first time; the statement from
// GET .../statement, signed byte for byte. Resolves as api().
const nodeKeys = new Map();
export async function signedAck(url, cookie, coll, id, version, decision, comment) {
  const J = { 'Content-Type': 'application/json' };
  let k = nodeKeys.get(cookie);
  if (!k) {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const reg = await api(url, cookie, 'POST', '/keys', { public_key: raw.toString('base64') }, J);
    if (reg.status !== 201) throw new Error('POST /keys: ' + reg.status + ' ' + reg.text);
    k = { fingerprint: reg.json.fingerprint, privateKey };
    nodeKeys.set(cookie, k);
  }
  const q = new URLSearchParams({ version: String(version), decision, ...(comment ? { comment } : {}) });
  const st = await fetch(`${url}/collections/${coll}/items/${id}/statement?${q}`, { headers: { Cookie: cookie } });
  const bytes = Buffer.from(await st.arrayBuffer());
  if (st.status !== 200) return { status: st.status, json: null, text: bytes.toString() };
  const value = crypto.sign(null, bytes, k.privateKey).toString('base64');
  return api(url, cookie, 'POST', `/collections/${coll}/items/${id}/ack`,
    { decision, comment, signature: { key: k.fingerprint, at: JSON.parse(bytes).at, value } },
    { ...J, 'If-Match': `"${version}"` });
}

export function zone(title, status = 'proposed', lon = 35.8, lat = 33.0) {
  const d = 0.02;
  return {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]] },
    properties: {
      title, type: 'restricted', status,
      valid_from: new Date(Date.now() - 3600e3).toISOString().slice(0, 19) + 'Z',
      valid_to: new Date(Date.now() + 86400e3).toISOString().slice(0, 19) + 'Z',
      altitude_floor_m: 0, altitude_ceiling_m: 1000,
    },
  };
}

// A page of the viewer logged in as user (whose password is the user name)
// through the login form, its list drawn; page errors and console errors
// (but the 4xx answers a test provokes) are pushed to errors.
export async function viewerPage(browser, url, user, errors, viewport = { width: 1366, height: 768 }) {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => errors.push(user + ': ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/the server responded with a status of 4/.test(m.text())) errors.push(user + ': ' + m.text()); });
  await page.goto(url + '/login');
  await page.fill('#login-user', user);
  await page.fill('#login-password', user);
  await page.click('button[type=submit]');
  await page.waitForSelector('#list li');
  return page;
}

// A Server-Sent Events client over node's http: parses id/event/data
// blocks into this.events; resolves `opened` with the status.
export class Sse {
  constructor(url, { cookie, lastId, agent } = {}) {
    this.events = []; // {id, event, data}
    this.comments = 0;
    this.lastId = lastId ?? null;
    this.ended = false;
    const headers = { Accept: 'text/event-stream' };
    if (cookie) headers.Cookie = cookie;
    if (lastId !== undefined && lastId !== null) headers['Last-Event-ID'] = String(lastId);
    this.opened = new Promise((resolve) => {
      this.req = http.get(url + '/events', { headers, agent }, (res) => {
        this.status = res.statusCode;
        this.type = res.headers['content-type'];
        resolve(res.statusCode);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            this.block(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        });
        res.on('end', () => { this.ended = true; });
        res.on('error', () => { this.ended = true; });
      });
      this.req.on('error', (e) => { this.error = e; this.ended = true; resolve(0); });
    });
  }

  block(text) {
    let id = null, event = 'message';
    const data = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) { this.comments++; continue; }
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (id !== null) this.lastId = Number(id);
    if (data.length) this.events.push({ id: id === null ? null : Number(id), event, data: JSON.parse(data.join('\n')) });
  }

  close() { this.req.destroy(); this.ended = true; }
}

let passed = 0, failed = 0;
export function check(name, ok, detail = '') {
  if (ok) { passed++; console.log('ok - ' + name); }
  else { failed++; console.log('FAIL - ' + name + (detail ? ': ' + detail : '')); }
}
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
