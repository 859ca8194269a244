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
 * cosigns the log's head (witness()), after checking the chain itself
 * from the head it cosigned last (checkChain()). */
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

/* ---- the page's own check of the chain (chain v2, events.c): the
 * records since the last head this party cosigned, from GET /events/chain
 * (those it may read in full, the others as their digests), hashed with
 * WebCrypto's SHA-256: each record's hash must be SHA-256(previous hash ||
 * SHA-256(canonical record)), or of the digest given, and the chain must
 * run from the head kept in this browser to the head the server offers.
 * The canonical record is jansson's sorted compact JSON, which escapes
 * only '"', '\\' and control characters (\b \f \n \r \t, else
 * \u00XX in upper case). ---- */
const CTRL = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
function jstr(s) {
  let o = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') o += '\\' + ch;
    else if (c < 0x20) o += CTRL[c] || '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else o += ch;
  }
  return o + '"';
}
const jt = (s) => (s === null || s === undefined ? 'null' : jstr(s));
export function canonRecord(r) {
  return `{"action":${jstr(r.action)},"after":${jt(r.after)},"at":${r.at},"before":${jt(r.before)},` +
    `"collection":${jt(r.collection)},"item":${r.item},"owner":${jt(r.owner)},"party":${jstr(r.party)},` +
    `"seq":${r.seq},"user":${jstr(r.user)},"version":${r.version}}`;
}
async function sha256hex(text) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/* null when the chain joins last (the head this browser cosigned, or
 * none: from the first record) to head; else what is wrong, in words. */
export async function checkChain(last, head) {
  if (last && head.seq < last.seq)
    return `the log ends at record ${head.seq}, before record ${last.seq}, which you cosigned: it was cut short`;
  let seq = last ? Math.max(last.seq - 1, 0) : 0;
  let prev = null, v2 = false;
  if (!last) prev = '0'.repeat(64);
  while (seq < head.seq) {
    const r = await fetch(`/events/chain?since=${seq}&limit=10000`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!r.ok) return `the log could not be read to check it (HTTP ${r.status})`;
    const { records } = await r.json();
    if (!records.length) return `the log ends at record ${seq}, before the head it offers (record ${head.seq})`;
    for (const e of records) {
      if (e.seq !== seq + 1) return `record ${seq + 1} is missing from the log`;
      if (prev === null) {
        /* the record this party cosigned: the same hash, or a rewrite */
        if (e.hash !== last.hash)
          return `record ${e.seq} is not the one you cosigned (hash ${last.hash.slice(0, 12)}… signed, ${String(e.hash).slice(0, 12)}… now): the log was rewritten at or before it`;
      } else if ('action' in e) {
        const c = canonRecord(e);
        if ((await sha256hex(prev + (await sha256hex(c)))) === e.hash) v2 = true;
        else if (v2 || (await sha256hex(prev + c)) !== e.hash)
          return `record ${e.seq} does not hash to its place in the chain after the head you cosigned (record ${last ? last.seq : 0}): it was changed, or the log rewritten before it`;
      } else if (e.digest) {
        if ((await sha256hex(prev + e.digest)) !== e.hash)
          return `record ${e.seq} (hidden from you, given as its digest) does not follow the record before it: the log was rewritten after the head you cosigned (record ${last ? last.seq : 0})`;
        v2 = true;
      } else if (v2) {
        return `record ${e.seq} is given as a hash alone after records of chain v2`;
      }
      prev = e.hash;
      seq = e.seq;
      if (seq === head.seq) break;
    }
  }
  if (prev !== head.hash)
    return `the head the server offers (record ${head.seq}) is not the end of the chain it gives`;
  return null;
}

/* The warning stays on the page (and is said once in a dialog): this
 * browser did not cosign. */
function warnChain(fault, last) {
  let bar = document.getElementById('witness-warning');
  if (!bar) {
    bar = document.createElement('div');
    bar.id = 'witness-warning';
    bar.className = 'witness-warning';
    bar.setAttribute('role', 'alert');
    document.body.appendChild(bar);
  }
  bar.innerHTML = `<b>Not cosigned: the log does not join the head you witnessed${last ? ` (record ${last.seq})` : ''}.</b>
    ${esc(fault)}. Keep this page and tell the other side and the supervisor.`;
  console.warn('witness: not cosigned:', fault);
}

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
  if (last && last.seq === head.seq && last.hash === head.hash) return null;
  /* the chain from the head this party last cosigned to the server's,
   * hashed here: a log rewritten (even re-hashed) under it is refused */
  const fault = await checkChain(last, head);
  if (fault) {
    warnChain(fault, last);
    return null;
  }
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
