/* common.js - what the viewer (app.js) and the wall (wall.js) share: the
 * HTTP helpers, the live event stream with reconnection, item metadata and
 * formatting. An ES module, no framework: `import * as FM from './common.js'`
 * (the pages also set window.FM to it, for tests). */

export const COLLS = ['zones', 'incidents', 'movements'];
export const KIND = { zones: 'zone', incidents: 'incident', movements: 'movement' };
/* The vocabulary (GET /vocabulary): statuses, zone types, incident
 * categories and severities, movement kinds, with labels, colours and how
 * the server draws them; the one list the server validates and draws
 * with (common/vocabulary.def). loadVocabulary() fills these in place
 * before a page uses them; nothing here repeats the words. */
export const vocab = { statuses: [], zone_types: [], categories: [], severities: [], movement_kinds: [] };
export const STATUSES = { zones: [], incidents: [], movements: [] };
export const ZONE_TYPES = [];
export const CATEGORIES = [];
export async function loadVocabulary() {
  if (vocab.statuses.length) return vocab;
  const { json } = await api('GET', '/vocabulary');
  Object.assign(vocab, json);
  for (const c of COLLS) STATUSES[c] = json.statuses.filter((s) => s.collections.includes(c)).map((s) => s.name);
  ZONE_TYPES.splice(0, ZONE_TYPES.length, ...json.zone_types.map((t) => t.name));
  CATEGORIES.splice(0, CATEGORIES.length, ...json.categories.map((t) => t.name));
  return vocab;
}
/* The label of a word of list ('statuses', 'zone_types'...), or the word itself in words */
export function label(list, name) {
  const t = (vocab[list] || []).find((x) => x.name === name || x.value === Number(name));
  return t ? t.label : words(name);
}
/* {value, label} options of a list, for a <select> */
export function options(list) {
  return (vocab[list] || []).map((t) => ({ value: String(t.name === undefined ? t.value : t.name), label: t.label }));
}
/* records that are no version of an item: an answer (ack, dispute), a
 * message, a "seen" receipt, a ruling; their `after` is no Feature */
export const THREAD_ACTIONS = new Set(['ack', 'dispute', 'message', 'seen', 'ruling']);
/* items that wait for the other side: not yet acknowledged, or disputed */
export const OPEN_STATUSES = new Set(['proposed', 'reported', 'notified', 'disputed']);
export const AREA = [[32.6, 35.6], [33.4, 36.2]]; /* the area of interest (lat, lon) */

export class HttpError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
    this.status = status;
    this.problem = problem;
  }
}

/* fetch as JSON; throws HttpError with the problem+json for 4xx/5xx */
export async function api(method, path, body, headers) {
  const h = Object.assign({ Accept: 'application/json' }, headers || {});
  if (method !== 'GET') h['X-Requested-With'] = 'fusionmap';
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = null;
  const text = await res.text();
  if (text) { try { json = JSON.parse(text); } catch (e) { json = null; } }
  if (!res.ok) throw new HttpError(res.status, json);
  return { json, etag: res.headers.get('ETag'), status: res.status };
}

/* Every feature of a collection (follows next links). t: as-of (ISO) or
 * null; extra: more of the query ("bbox=..."), or nothing */
export async function features(coll, t, extra) {
  let url = '/collections/' + coll + '/items?limit=1000' + (t ? '&t=' + encodeURIComponent(t) : '') + (extra ? '&' + extra : '');
  const out = [];
  for (let pages = 0; url && pages < 50; pages++) {
    const { json } = await api('GET', url);
    out.push(...(json.features || []));
    const next = (json.links || []).find((l) => l.rel === 'next');
    url = next && json.features && json.features.length ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
  }
  return out;
}

/* The live stream. EventSource reconnects by itself (Last-Event-ID) after
 * a network drop; after an answer it will not retry (401, 503, a server
 * restarting) it is CLOSED, so we start a new one with backoff, from the
 * last id we saw. handlers: {event(e), reset(), state(s), ended(),
 * position(seq): the head of the log as this stream sees it (optional)} */
function direct(handlers, since) {
  let es = null, lastId = since, backoff = 1000, timer = null, stopped = false;
  function setState(s) { if (handlers.state) handlers.state(s); }
  function open() {
    if (stopped) return;
    const url = '/events' + (lastId !== null && lastId !== undefined ? '?since=' + encodeURIComponent(lastId) : '');
    es = new EventSource(url);
    es.onopen = () => { backoff = 1000; setState('live'); };
    es.onmessage = (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      let e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      handlers.event(e);
    };
    /* "position" only moves our place in the log (past events we may not see) */
    es.addEventListener('position', (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      if (handlers.position && m.lastEventId) handlers.position(Number(m.lastEventId));
    });
    es.addEventListener('reset', (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      handlers.reset(lastId);
    });
    es.addEventListener('bye', () => {
      close();
      if (handlers.ended) handlers.ended();
    });
    es.onerror = () => {
      setState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        close();
        retry();
      }
    };
  }
  function retry() {
    if (stopped || timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        await api('GET', '/me');
      } catch (e) {
        if (e.status === 401) { if (handlers.ended) handlers.ended(); return; }
        backoff = Math.min(backoff * 2, 15000);
        retry();
        return;
      }
      open();
    }, backoff);
  }
  function close() {
    if (es) { es.onerror = es.onmessage = es.onopen = null; es.close(); es = null; }
  }
  open();
  return { stop() { stopped = true; close(); if (timer) clearTimeout(timer); } };
}

/* One stream for all the tabs of this browser: without HTTP/2 a browser
 * opens at most 6 connections to a server, so 7 tabs with a stream each
 * would starve every request. One tab (the holder of a Web Lock) runs the
 * EventSource and passes what it gets to the others on a
 * BroadcastChannel; when it closes, another tab takes over from the last
 * id it saw. Every tab drops an event it has already seen. Without Web
 * Locks (not a secure context) each tab has its own stream. */
export function stream(handlers) {
  let lastSeq = -1, stopped = false, release = null, leader = null, state = 'connecting';
  const local = {
    event(e) { if (e.seq <= lastSeq) return; lastSeq = e.seq; handlers.event(e); },
    reset(id) { lastSeq = Number(id) || lastSeq; handlers.reset(); },
    state(s) { state = s; if (handlers.state) handlers.state(s); },
    ended() { if (handlers.ended) handlers.ended(); },
    position(seq) { if (handlers.position) handlers.position(seq); },
  };
  if (!(navigator.locks && window.BroadcastChannel)) {
    leader = direct(local, null);
    return { stop() { stopped = true; leader.stop(); } };
  }
  const bc = new BroadcastChannel('fm-events');
  bc.onmessage = (m) => {
    const d = m.data || {};
    if (leader) { if (d.type === 'hello') bc.postMessage({ type: 'state', state }); return; }
    if (d.type === 'event') local.event(d.e);
    else if (d.type === 'reset') local.reset(d.id);
    else if (d.type === 'state') local.state(d.state);
    else if (d.type === 'ended') local.ended();
    else if (d.type === 'position') local.position(d.seq);
  };
  bc.postMessage({ type: 'hello' });
  navigator.locks.request('fm-events-leader', () => new Promise((resolve) => {
    release = resolve;
    if (stopped) return resolve();
    leader = direct({
      event(e) { bc.postMessage({ type: 'event', e }); local.event(e); },
      reset(id) { bc.postMessage({ type: 'reset', id }); local.reset(id); },
      state(s) { bc.postMessage({ type: 'state', state: s }); local.state(s); },
      ended() { bc.postMessage({ type: 'ended' }); local.ended(); },
      position(seq) { bc.postMessage({ type: 'position', seq }); local.position(seq); },
    }, lastSeq >= 0 ? lastSeq : null);
  }));
  return {
    stop() {
      stopped = true;
      if (leader) leader.stop();
      leader = null;
      bc.close();
      if (release) release();
    },
  };
}

export function esc(s) {
  return String(s === undefined || s === null ? '' : s).replace(/[&<>"']/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
export function words(s) { return String(s || '').replace(/_/g, ' '); }
export function utc(iso) {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/:\d\dZ$/, 'Z').replace(/Z$/, ' UTC');
}
export function ago(iso) {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (isNaN(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}
/* "a zone", "an incident": an item named without its internal id */
export function anItem(coll) { const k = KIND[coll] || 'item'; return (/^[aeiou]/.test(k) ? 'an ' : 'a ') + k; }
/* The titles of a conflict's two items, as `items` ("zones/3" -> Feature)
 * knows them (or `titles`, "zones/3" -> title); never an internal id. */
export function conflictNames(p, items, titles) {
  return (p.items || []).map((it) => {
    const key = it.collection + '/' + it.id, g = items.get(key);
    return (g && g.properties.title) || (titles && titles.get(key)) || anItem(it.collection);
  });
}
export function partyName(code, parties) {
  return (parties && parties[code] && parties[code].name) || (code ? 'party ' + code : 'someone');
}
/* One record of the event log as a line people read, with the items'
 * titles and the party's name, never an internal id: {who, text}, or
 * null for a record that repeats the one before it (the status change
 * that follows an acknowledgement or a dispute). A conflict is opened by
 * the system on someone's write, so it names nobody. items: "zones/3" ->
 * Feature; titles: "zones/3" -> title (items no longer on the map). */
export function describe(e, items, parties, titles) {
  const f = e.after || e.before;
  const fp = (f && f.properties) || {};
  if (e.collection === 'conflicts') {
    const names = conflictNames(fp, items, titles);
    const pair = names.length === 2 ? names[0] + ' and ' + names[1] : names.join(', ') || 'two items';
    if (e.action === 'conflict_open') return { who: '', text: 'New conflict: ' + pair };
    if (e.action === 'conflict_resolved') {
      /* resolved by a person (the supervisor), or cleared by itself when the clash went */
      if (fp.resolved_by) return { who: '', text: 'Conflict resolved by ' + partyName(e.party, parties) + ': ' + pair };
      return { who: '', text: 'Conflict cleared: ' + pair };
    }
    return { who: '', text: 'Conflict ' + words(e.action).replace(/^conflict /, '') + ': ' + pair };
  }
  if (e.action === 'acknowledged' || e.action === 'disputed' || e.action === 'seen') return null;
  if (e.action === 'message') {
    /* the cell's channel to all parties; an item's thread or a side's
     * channel with the supervisor is not for a room */
    if (!e.after || e.after.thread !== 'channel/all') return null;
    return { who: partyName(e.party, parties), text: 'to all: “' + e.after.text + '”', message: true };
  }
  const key = e.collection + '/' + e.item;
  const have = items.get(key);
  const title = (f && f.type === 'Feature' && fp.title) || (have && have.properties.title) || (titles && titles.get(key));
  const what = title ? (KIND[e.collection] || 'item') + ' “' + title + '”' : anItem(e.collection);
  const who = partyName(e.party, parties);
  const bp = (e.before && e.before.properties) || {};
  /* an answer's or a ruling's record (no Feature): its comment, decision, reason */
  const rec = (e.after && e.after.type !== 'Feature' && e.after) || {};
  let text;
  switch (e.action) {
    case 'create':
      text = (fp.status === 'draft' ? 'drafted ' : { zones: 'proposed ', incidents: 'reported ', movements: 'notified ' }[e.collection] || 'added ') + what;
      break;
    case 'replace': case 'patch': case 'update':
      if (bp.status && fp.status && bp.status !== fp.status) text = 'set ' + what + ' to ' + words(fp.status);
      else if (bp.title && fp.title && bp.title !== fp.title) text = 'renamed ' + (KIND[e.collection] || 'item') + ' “' + bp.title + '” to “' + fp.title + '”';
      else text = 'changed ' + what;
      break;
    case 'withdraw': text = 'withdrew ' + what; break;
    case 'ack': text = 'acknowledged ' + what; break;
    case 'dispute': text = 'disputed ' + what + (rec.comment ? ': “' + rec.comment + '”' : ''); break;
    case 'ruling': text = (rec.decision === 'uphold' ? 'upheld the dispute of ' : 'overruled the dispute of ') + what + (rec.reason ? ': “' + rec.reason + '”' : ''); break;
    default: text = words(e.action) + ' ' + what;
  }
  return { who, text };
}

/* The time slider's steps: fine near now, coarser further away (5 min
 * up to an hour, 15 min up to 6 h, hours up to a day, 3 h up to 3 days,
 * then days), 30 days back and 14 days ahead. Position 0 is now. */
const TIME_STEPS = [[3600e3, 300e3], [6 * 3600e3, 900e3], [86400e3, 3600e3], [3 * 86400e3, 3 * 3600e3], [Infinity, 86400e3]];
function offsets(reach) {
  const out = [];
  let t = 0;
  for (const [upto, step] of TIME_STEPS) while (t + step <= Math.min(upto, reach)) { t += step; out.push(t); }
  return out;
}
const PAST = offsets(30 * 86400e3), AHEAD = offsets(14 * 86400e3);
export const timeline = {
  min: -PAST.length, max: AHEAD.length,
  /* ms from now at slider position i */
  offsetAt(i) { i = Math.round(i); return i < 0 ? -PAST[Math.min(-i, PAST.length) - 1] : i > 0 ? AHEAD[Math.min(i, AHEAD.length) - 1] : 0; },
  /* the position nearest to ms from now */
  indexOf(ms) {
    let best = 0;
    for (let i = timeline.min; i <= timeline.max; i++) if (Math.abs(timeline.offsetAt(i) - ms) < Math.abs(timeline.offsetAt(best) - ms)) best = i;
    return best;
  },
  /* the time at position i (ISO, whole minutes), or null for now */
  at(i, now) {
    if (!Math.round(i)) return null;
    const t = new Date((now === undefined ? Date.now() : now) + timeline.offsetAt(i));
    t.setUTCSeconds(0, 0);
    return t.toISOString().slice(0, 19) + 'Z';
  },
};
/* a duration in words: "5 min", "2 h 15 min", "3 d 4 h" */
export function span(ms) {
  const m = Math.round(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
  if (d) return d + ' d' + (h ? ' ' + h + ' h' : '');
  if (h) return h + ' h' + (mm ? ' ' + mm + ' min' : '');
  return mm + ' min';
}
/* Where an item stands at time t (ms): 'ahead' before its window opens
 * (planned, not yet in force), 'over' after it closes, else 'in'. */
export function phase(p, t) {
  const from = Date.parse(p.valid_from || p.occurred_at || ''), to = Date.parse(p.valid_to || '');
  if (from > t) return 'ahead';
  if (to <= t) return 'over';
  return 'in';
}
