/* signing.js - signed answers (issue 20). Each browser holds its own
 * Ed25519 key pair, made with WebCrypto as non-extractable (the private
 * key never leaves the browser: not even this script can read it), kept
 * in IndexedDB per user, its public half registered with POST /keys. An
 * acknowledgement or a dispute fetches the exact statement from the
 * server (GET .../statement), shows it in words, and only on confirmation
 * signs it and sends the answer with its signature.
 *
 * A browser without WebCrypto Ed25519 (or a page not in a secure context)
 * answers unsigned, which the server takes only from a user who never
 * registered a key (README, "Keys and signed answers").
 *
 * With every signed answer, and every five minutes after, the page also
 * cosigns the log's head (witness()). */
import * as FM from '../common.js';
import { state } from './state.js';
import { dialog } from './ui.js';

const { api, esc, utc } = FM;
const DB = 'fusionmap-keys', STORE = 'keys';

export function canSign() {
  return !!(window.isSecureContext && window.crypto && crypto.subtle && window.indexedDB);
}

function idb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function idbDo(mode, fn) {
  const db = await idb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally { db.close(); }
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/* This browser's key of the logged-in user, registered and not revoked:
 * {fingerprint, privateKey}. Makes and registers a new one when there is
 * none (or the one kept was revoked). */
export async function myKey() {
  const user = state.me.user;
  const kept = await idbDo('readonly', (s) => s.get(user));
  const { json } = await api('GET', '/keys');
  const current = new Set(json.keys.filter((k) => !k.revoked).map((k) => k.fingerprint));
  if (kept && current.has(kept.fingerprint)) return kept;
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
  const reg = await api('POST', '/keys', { public_key: b64(raw) });
  const key = { fingerprint: reg.json.fingerprint, privateKey: pair.privateKey, publicKey: pair.publicKey, created: reg.json.created };
  await idbDo('readwrite', (s) => s.put(key, user));
  return key;
}

/* The statement in words, for the confirmation. */
function inWords(st, f, comment) {
  const verb = st.decision === 'ack' ? 'acknowledge' : 'dispute';
  return `<p class="statement">I, <b>${esc(st.user)}</b> of party <b>${esc(st.party)}</b>, ${verb}
    <b>version ${st.version}</b> of ${esc(st.collection)} item ${st.item}
    “${esc(f.properties.title || '')}”, at ${esc(utc(new Date(st.at * 1000).toISOString().slice(0, 19) + 'Z'))}.</p>
    ${comment ? `<p>My comment: “${esc(comment)}”</p>` : '<p>No comment.</p>'}
    <p class="small">Signed: this version's content (SHA-256 <code>${esc(st.version_sha256.slice(0, 16))}…</code>),
    my comment (SHA-256 <code>${esc(st.comment_sha256.slice(0, 16))}…</code>), the time, my name and party.</p>`;
}

/* Answers version f.properties.version of f: shows the statement, asks,
 * signs, sends. Resolves to the server's reply ({json}), or null when the
 * user did not confirm. Throws the API's errors. */
export async function signedAnswer(f, decision, comment) {
  const version = f.properties.version;
  const path = `/collections/${f.coll}/items/${f.id}`;
  const send = (signature) => api('POST', path + '/ack', { decision, comment, ...(signature ? { signature } : {}) },
    { 'If-Match': '"' + version + '"' });
  if (!canSign()) return send(null);
  const key = await myKey();
  const q = new URLSearchParams({ version: String(version), decision });
  if (comment) q.set('comment', comment);
  const res = await fetch(path + '/statement?' + q, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    throw new FM.HttpError(res.status, body);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const st = JSON.parse(new TextDecoder().decode(bytes));
  const ok = await dialog(decision === 'ack' ? 'Sign and acknowledge?' : 'Sign and dispute?',
    inWords(st, f, comment) + `<p class="small">Key <code>${esc(key.fingerprint.slice(0, 16))}…</code>, kept in this browser.</p>
    <div class="buttons"><button data-act="cancel">Cancel</button><button class="primary" data-act="ok">Sign and send</button></div>`,
    (body, close) => {
      body.querySelector('[data-act=cancel]').addEventListener('click', () => close(false));
      body.querySelector('[data-act=ok]').addEventListener('click', () => close(true));
      body.querySelector('[data-act=ok]').focus();
    });
  if (!ok) return null;
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes);
  const sent = await send({ key: key.fingerprint, at: st.at, value: b64(sig) });
  /* and the head that now holds the answer, witnessed by this party */
  witness().catch((e) => console.warn('witness:', e));
  if (!witnessTimer) witnessTimer = setInterval(() => witness().catch((e) => console.warn('witness:', e)), WITNESS_EVERY_MS);
  return sent;
}

/* ---- cosigned heads: this party witnesses the log (README, "A history
 * both sides witness") ---- */
const WITNESS_EVERY_MS = 5 * 60 * 1000;
let witnessTimer = null;

/* Signs the log's head with this browser's key (GET /events/head, POST
 * /heads) and keeps it; a head the server refuses as not its own (409:
 * another history than the one this party was shown) is told at once.
 * Resolves to the head kept, or null when there was nothing new. */
export async function witness() {
  if (!canSign()) return null;
  const key = await myKey();
  const res = await fetch('/events/head', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) return null;
  const head = await res.json();
  const mine = `fusionmap-head-${state.me.user}`;
  const last = JSON.parse(localStorage.getItem(mine) || 'null');
  if (last && last.seq === head.seq) return null;
  const bytes = new TextEncoder().encode(head.statement);
  const st = JSON.parse(head.statement);
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes);
  const r = await fetch('/heads', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Requested-With': 'fusionmap' },
    body: JSON.stringify({ seq: head.seq, hash: head.hash, signature: { key: key.fingerprint, at: st.at, value: b64(sig) } }),
  });
  const body = await r.json().catch(() => null);
  if (r.status === 409 && body && body.pointer === '/hash') {
    await dialog('The log is not the one you witnessed', `<p>${esc(body.detail)}</p>
      <p>Keep this page and tell the other side and the supervisor.</p>
      <div class="buttons"><button class="primary" data-act="ok">Close</button></div>`,
    (b, close) => b.querySelector('[data-act=ok]').addEventListener('click', () => close(true)));
    return null;
  }
  if (r.status !== 201) return null;
  localStorage.setItem(mine, JSON.stringify(body));
  return body;
}

/* ---- the new-key notice: on login the page lists every signing key of
 * its user's party and tells the user of any this browser has not seen
 * before, other than its own (a key the user does not know may be
 * someone signing as them or their party). ---- */
export async function keyNotice() {
  const user = state.me.user;
  let keys;
  try { keys = (await api('GET', '/keys?party=1')).json.keys; } catch (e) { return []; }
  const seenKey = `fusionmap-known-keys-${user}`;
  const seen = JSON.parse(localStorage.getItem(seenKey) || 'null');
  const mine = canSign() ? await idbDo('readonly', (s) => s.get(user)).catch(() => null) : null;
  localStorage.setItem(seenKey, JSON.stringify(keys.map((k) => k.fingerprint)));
  if (!seen) return []; /* the first time in this browser: nothing to compare with */
  const fresh = keys.filter((k) => !seen.includes(k.fingerprint) && !(mine && mine.fingerprint === k.fingerprint));
  if (!fresh.length) return [];
  await dialog(fresh.length === 1 ? 'A new signing key' : `${fresh.length} new signing keys`,
    `<p>Registered for your party since this browser last looked:</p><ul class="new-keys">${fresh.map((k) =>
      `<li><b>${esc(k.user)}</b>: key <code>${esc(k.fingerprint.slice(0, 16))}…</code>, ${esc(utc(k.created))}, from ${esc(k.from)}${k.revoked ? ' (revoked)' : ''}</li>`).join('')}</ul>
    <p class="small">If you do not know one of yours, revoke it (DELETE /keys/…) and tell the supervisor; if it is a colleague's, ask them.</p>
    <div class="buttons"><button class="primary" data-act="ok">I have read this</button></div>`,
  (b, close) => b.querySelector('[data-act=ok]').addEventListener('click', () => close(true)));
  return fresh;
}
