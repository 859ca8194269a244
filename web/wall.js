/* wall.js - the briefing wall: read only, live, for days unattended.
 *
 * Way in: /wall?token=T (a viewer-role token). The page moves T out of
 * the address bar at once (history.replaceState), keeps it in this tab's
 * sessionStorage only, and trades it for a session cookie with
 * POST /login/token (Authorization: Bearer T). If the session later ends,
 * it trades the token again. Without a token it uses an existing login.
 *
 * The lists show the newest first and scroll; left alone, a list longer
 * than its box pages by itself every few seconds, so every counted row is
 * seen. The ticker says what happened in words (titles and party names),
 * and after a reload it is filled from the event log.
 *
 * Memory stays flat: the map's layers are replaced, never accumulated; the
 * ticker and lists are bounded; no listener is added after start-up. */
import * as FM from './common.js';

const { api, esc, words } = FM;
const $ = (id) => document.getElementById(id);
const TICKER_MAX = 12, LIST_MAX = 300, PAGE_MS = 6000, IDLE_MS = 30000;
const TOKEN_KEY = 'fm_wall_token';

const items = new Map(); /* "zones/3" -> Feature */
const layers = new Map(); /* "zones/3" -> layer */
const ticker = []; /* {seq, at, when, text, who}: newest first, at most TICKER_MAX */
const parties = {};
let map, group, conflictLayer, stream = null, lastUpdate = null, downSince = null, conflictsAvailable = true, backfilled = false, head = 0;

/* ---- the token ---------------------------------------------------------- */

function takeTokenFromUrl() {
  const u = new URL(location.href);
  const t = u.searchParams.get('token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + (u.search || '') + u.hash);
  }
}

async function signIn() {
  try {
    return (await api('GET', '/me')).json;
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (!t) return null;
  try {
    return (await api('POST', '/login/token', undefined, { Authorization: 'Bearer ' + t })).json;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      gate(e.status === 403 ? 'This token may not open the wall: it must belong to a read-only (viewer) user.' : 'This wall token is not valid any more.');
      return null;
    }
    throw e;
  }
}

function gate(msg) {
  $('gate').hidden = false;
  $('gate-msg').innerHTML = esc(msg) + '<br><br>Open <b>/wall?token=…</b> with a viewer token, or <a href="/login">log in</a> first.';
}

/* ---- clock -------------------------------------------------------------- */

function tick() {
  const d = new Date();
  $('utc').textContent = d.toISOString().slice(11, 19);
  $('local').textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  $('date').textContent = d.toISOString().slice(0, 10);
  if (!tick.zone) { tick.zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local'; $('localzone').textContent = tick.zone === 'UTC' ? 'local (UTC)' : tick.zone; }
  if (downSince) {
    const s = Math.round((Date.now() - downSince) / 1000);
    $('stale').textContent = `RECONNECTING… picture as of ${lastUpdate ? lastUpdate.toISOString().slice(11, 19) + ' UTC' : 'start'} (${s} s)`;
  }
}

/* ---- map ------------------------------------------------------------------ */

function colour(p) { return (parties[p] && parties[p].colour) || '#adb5bd'; }

function initMap() {
  map = L.map('map', {
    zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
    doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, zoomSnap: 0.25,
    fadeAnimation: false, /* a closed label goes at once, not 200 ms later */
  });
  const fit = () => map.fitBounds(FM.AREA, { padding: [20, 20] });
  fit();
  window.addEventListener('resize', fit);
  fetch('/tiles/basemap.json', { credentials: 'same-origin' }).then((r) => {
    if (r.ok) L.tileLayer('/tiles/basemap/{z}/{x}/{y}.png', { maxZoom: 18, opacity: 0.75 }).addTo(map).bringToBack();
  }).catch(() => {});
  group = L.layerGroup().addTo(map);
  conflictLayer = L.layerGroup().addTo(map);
  /* the area of interest, so the map is never just black */
  L.rectangle(FM.AREA, { color: '#4dabf7', weight: 2, dashArray: '8 8', fill: false, interactive: false }).addTo(map);
}

function draw(key, f) {
  const old = layers.get(key);
  if (old) { group.removeLayer(old); layers.delete(key); }
  if (!f) return;
  const p = f.properties, c = colour(p.party), disputed = p.status === 'disputed';
  /* planned, not yet in force: dotted and light, as in the viewer */
  const ahead = FM.phase(p, Date.now()) === 'ahead';
  let layer;
  if (f.coll === 'incidents') {
    const [lon, lat] = f.geometry.coordinates;
    layer = L.circleMarker([lat, lon], { radius: 8 + 2 * (Number(p.severity) || 1), color: '#fff', weight: 3, fillColor: disputed ? '#ff4d4d' : c, fillOpacity: ahead ? 0.4 : 1 });
  } else {
    /* the one Leaflet path for the geometry (a GeoJSON group would open
     * its permanent label once per child and leave some behind) */
    const style = f.coll === 'movements' ? { color: disputed ? '#ff4d4d' : c, weight: disputed ? 8 : 6, dashArray: ahead ? '3 10' : '14 8', opacity: ahead ? 0.6 : 1 }
      : { color: disputed ? '#ff4d4d' : c, weight: disputed ? 5 : 3, fillColor: c, fillOpacity: ahead ? 0.06 : 0.25, dashArray: ahead ? '3 9' : null, opacity: ahead ? 0.7 : 1 };
    layer = L.geoJSON(f.geometry, { style }).getLayers()[0];
    if (!layer) return;
  }
  /* labels beside points, in the middle of areas; routes are named in the lists */
  if (f.coll === 'incidents') layer.bindTooltip(esc(p.title || ''), { permanent: true, direction: 'right', offset: [14, 0], className: 'lbl', opacity: 0.95 });
  else if (f.coll === 'zones') layer.bindTooltip(esc(p.title || ''), { permanent: true, direction: 'center', className: 'lbl zone', opacity: 0.9 });
  layer.fmAhead = ahead;
  group.addLayer(layer);
  layers.set(key, layer);
}

/* ---- data ------------------------------------------------------------------ */

let loading = false, needReload = false;
const queue = [];
async function reload() {
  loading = true;
  let all;
  try {
    all = await Promise.all(FM.COLLS.map((c) => FM.features(c, null).then((fs) => fs.map((f) => Object.assign(f, { coll: c })))));
  } catch (e) {
    needReload = true; /* again once the stream is back */
    throw e;
  } finally {
    loading = false;
  }
  needReload = false;
  for (const key of [...layers.keys()]) draw(key, null);
  items.clear();
  for (const fs of all) for (const f of fs) { const k = f.coll + '/' + f.id; items.set(k, f); draw(k, f); }
  for (const e of queue.splice(0)) apply(e);
  renderOpen();
  await loadConflicts();
  lastUpdate = new Date();
  if (head) backfill(head); /* titles known now */
}

/* A click on a listed conflict flies there; the wall, left alone, goes
 * back to the whole area a minute later. */
let backTimer = null;
function flyTo(geometry) {
  if (!geometry) return;
  const b = L.geoJSON(geometry).getBounds();
  if (!b.isValid()) return;
  map.flyToBounds(b, { maxZoom: 14, padding: [80, 80], duration: 1 });
  clearTimeout(backTimer);
  backTimer = setTimeout(() => map.flyToBounds(FM.AREA, { padding: [20, 20], duration: 1 }), 60000);
}

async function loadConflicts() {
  if (!conflictsAvailable) return;
  try {
    const fs = await FM.features('conflicts', null);
    const open = fs.filter((f) => (f.properties.state || 'open') === 'open');
    /* the newest first: the one just opened is the one the room asks about */
    open.sort((a, b) => String(b.properties.opened_at || '').localeCompare(String(a.properties.opened_at || '')) || Number(b.id) - Number(a.id));
    $('conflict-count').textContent = open.length;
    $('conflict-count').classList.toggle('hot', open.length > 0);
    $('conflicts').innerHTML = open.slice(0, LIST_MAX).map((f, i) => {
      const p = f.properties;
      const names = FM.conflictNames(p, items);
      return `<li data-i="${i}" data-id="${esc(f.id)}" style="border-left-color:#ff4d4d;cursor:pointer"><div class="t">${esc(names.join(' × ') || 'conflict')}</div>` +
        `<div class="m"><span class="st disputed">${esc(words(p.kind || 'conflict'))}</span>since ${esc(FM.ago(p.opened_at || p.updated_at))}</div></li>`;
    }).join('') || '<li class="none">None</li>';
    conflictsShown = open;
    pages();
    /* the clash areas in red, replaced wholesale (never accumulated) */
    conflictLayer.clearLayers();
    for (const f of open.slice(0, 200)) if (f.geometry) conflictLayer.addLayer(L.geoJSON(f.geometry, { style: { color: '#ff4d4d', weight: 4, fillColor: '#ff4d4d', fillOpacity: 0.45 }, pointToLayer: (g, ll) => L.circleMarker(ll, { radius: 12, color: '#ff4d4d', weight: 4 }) }));
  } catch (e) {
    if (e.status === 404) { conflictsAvailable = false; $('conflicts-box').hidden = true; }
  }
}
let conflictsShown = [];

/* ---- the lists page by themselves --------------------------------------- */

/* "5–8 of 11" beside a list's heading while it is longer than its box */
function pageNote(ul, note) {
  const rows = [...ul.children].filter((li) => !li.classList.contains('none'));
  if (ul.scrollHeight <= ul.clientHeight + 2 || !rows.length) { note.textContent = ''; return; }
  const top = ul.scrollTop, bottom = top + ul.clientHeight;
  let first = -1, last = -1;
  rows.forEach((li, i) => {
    const a = li.offsetTop - ul.offsetTop, b = a + li.offsetHeight;
    if (a >= top - 2 && b <= bottom + 2) { if (first < 0) first = i; last = i; }
  });
  if (first < 0) { note.textContent = ''; return; }
  note.textContent = `${first + 1}–${last + 1} of ${rows.length}` + (last + 1 < rows.length ? ' ▾' : '');
}
function pages() {
  pageNote($('conflicts'), $('conflicts-page'));
  pageNote($('open'), $('open-page'));
}
/* one page on (the last whole row stays in view), back to the top at the end */
function pageOn(ul) {
  if (ul.scrollHeight <= ul.clientHeight + 2) return;
  const end = ul.scrollTop + ul.clientHeight >= ul.scrollHeight - 2;
  let next = 0;
  if (!end) {
    const bottom = ul.scrollTop + ul.clientHeight;
    const cut = [...ul.children].find((li) => li.offsetTop - ul.offsetTop + li.offsetHeight > bottom + 2);
    next = cut ? cut.offsetTop - ul.offsetTop : ul.scrollTop + ul.clientHeight;
  }
  ul.scrollTo({ top: next, behavior: 'smooth' });
}
function pager() {
  for (const ul of [$('conflicts'), $('open')]) if (!(Date.now() - Number(ul.dataset.touched || 0) < IDLE_MS)) pageOn(ul);
}

function renderOpen() {
  const open = [...items.values()].filter((f) => FM.OPEN_STATUSES.has(f.properties.status));
  open.sort((a, b) => (a.properties.status === 'disputed' ? -1 : 0) - (b.properties.status === 'disputed' ? -1 : 0) ||
    String(b.properties.updated_at).localeCompare(String(a.properties.updated_at)) || Number(b.id) - Number(a.id));
  $('open-count').textContent = open.length;
  $('open').innerHTML = open.slice(0, LIST_MAX).map((f) => {
    const p = f.properties;
    return `<li style="border-left-color:${esc(colour(p.party))}"><div class="t">${esc(p.title || '(untitled)')}</div>` +
      `<div class="m"><span class="st ${esc(p.status)}">${esc(words(p.status))}</span>${esc(FM.KIND[f.coll])} · ${esc(p.party)} · ${esc(FM.ago(p.updated_at))}</div></li>`;
  }).join('') || '<li class="none">Nothing waiting</li>';
  pages();
}

/* a burst of events redraws the ticker and the list once, together */
let renderTimer = null, openDirty = false, tickerDirty = false;
function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => {
    renderTimer = null;
    if (openDirty) renderOpen();
    if (tickerDirty) renderTicker();
    openDirty = tickerDirty = false;
  }, 100);
}
function scheduleOpen() { openDirty = true; scheduleRender(); }

function renderTicker() {
  $('ticker').innerHTML = ticker.map((t, i) => `<li class="${i === 0 && Date.now() - t.when < 3000 ? 'new' : ''}"><span class="at">${esc(t.at)}</span>` +
    (t.who ? `<b>${esc(t.who)}</b> ` : '') + `${esc(t.text)}</li>`).join('');
}
/* adds lines (newest first, each record once), bounded */
function addTicker(lines) {
  for (const l of lines) if (!ticker.some((t) => t.seq === l.seq)) ticker.push(l);
  ticker.sort((a, b) => b.seq - a.seq);
  if (ticker.length > TICKER_MAX) ticker.length = TICKER_MAX;
  tickerDirty = true;
  scheduleRender();
}
function line(e, titles, when) {
  const d = FM.describe(e, items, parties, titles);
  return d && { seq: Number(e.seq) || 0, at: (e.at || '').slice(11, 16), when, who: d.who, text: d.text };
}

/* After a reload the ticker starts from the log: the records up to the
 * head the stream names (its first "position"), read once. */
async function backfill(head) {
  if (backfilled || !(head > 0)) return;
  backfilled = true;
  try {
    const since = Math.max(0, head - 100);
    const { json } = await api('GET', `/events/log?since=${since}&limit=100`);
    const titles = new Map(), lines = [];
    for (const e of (json && json.events) || []) {
      if (e.seq > head) continue;
      const l = line(e, titles, 0);
      if (l) lines.push(l);
      const f = e.after || e.before;
      if (e.collection !== 'conflicts' && f && f.type === 'Feature' && f.properties && f.properties.title) titles.set(e.collection + '/' + e.item, f.properties.title);
    }
    addTicker(lines.slice(-TICKER_MAX));
  } catch (e) {
    backfilled = false; /* again at the next position */
  }
}

function onEvent(e) {
  lastUpdate = new Date();
  if (e.collection === 'conflicts') {
    const l = line(e, null, Date.now());
    if (l) addTicker([l]);
    loadConflicts();
    return;
  }
  if (!FM.COLLS.includes(e.collection)) return;
  /* the line before the event is applied: a withdrawn item keeps its title */
  const l = line(e, null, Date.now());
  if (l) addTicker([l]);
  if (loading) { if (queue.length < 10000) queue.push(e); return; }
  apply(e);
  scheduleOpen();
  scheduleConflicts();
}

/* one event onto the map; an older version never replaces a newer one */
function apply(e) {
  const key = e.collection + '/' + e.item, f = e.after;
  const have = items.get(key);
  if (have && have.properties.version > e.version) return;
  if (f && f.properties && f.properties.status !== 'withdrawn') {
    Object.assign(f, { coll: e.collection });
    items.set(key, f);
    draw(key, f);
  } else {
    items.delete(key);
    draw(key, null);
  }
}

let conflictTimer = null;
function scheduleConflicts() {
  if (conflictTimer || !conflictsAvailable) return;
  conflictTimer = setTimeout(() => { conflictTimer = null; loadConflicts(); }, 1500);
}

function setConn(s) {
  $('conn').className = 'conn ' + s;
  $('conn').textContent = s === 'live' ? 'LIVE' : 'RECONNECTING…';
  if (s === 'live') {
    if (needReload) reload().catch(() => {});
    downSince = null;
    $('stale').hidden = true;
  } else if (!downSince) {
    downSince = Date.now();
    $('stale').hidden = false;
    tick();
  }
}

async function start() {
  takeTokenFromUrl();
  setInterval(tick, 1000);
  tick();
  let me = null;
  for (let wait = 1000; ; wait = Math.min(wait * 2, 15000)) {
    try { me = await signIn(); break; } catch (e) { setConn('reconnecting'); await new Promise((r) => setTimeout(r, wait)); }
  }
  if (!me) { if ($('gate').hidden) gate('Not signed in.'); return; }
  try { for (const p of (await api('GET', '/parties')).json) parties[p.code] = p; } catch (e) { /* grey */ }
  initMap();
  /* the lists page by themselves; a person scrolling them stops that a while */
  setInterval(pager, PAGE_MS);
  /* an item whose window opens is drawn anew (solid) */
  setInterval(() => {
    for (const [key, f] of items) { const l = layers.get(key); if (l && l.fmAhead !== (FM.phase(f.properties, Date.now()) === 'ahead')) draw(key, f); }
  }, 60000);
  for (const id of ['conflicts', 'open']) {
    const ul = $(id);
    for (const ev of ['wheel', 'touchstart', 'pointerdown', 'keydown']) ul.addEventListener(ev, () => { ul.dataset.touched = Date.now(); }, { passive: true });
    ul.addEventListener('scroll', pages, { passive: true });
  }
  window.addEventListener('resize', pages);
  /* a click on a listed conflict flies there (one listener for all rows) */
  $('conflicts').addEventListener('click', (ev) => {
    const li = ev.target.closest('li[data-i]');
    const f = li && conflictsShown[Number(li.dataset.i)];
    if (f) flyTo(f.geometry);
  });
  loading = true; /* events wait until the first snapshot is in */
  const handlers = {
    event: onEvent,
    /* the stream's first "position" is the head of the log at connect */
    position: (seq) => { if (!head) head = seq; if (!loading) backfill(head); },
    reset: () => reload().catch(() => {}),
    state: setConn,
    ended: async () => {
      /* the session ended: trade the token again, or show the gate */
      stream.stop();
      setConn('reconnecting');
      const again = await signIn().catch(() => null);
      if (again) { stream = FM.stream(handlers); reload().catch(() => {}); } else gate('The session has ended.');
    },
  };
  stream = FM.stream(handlers);
  await reload().catch(() => {});
  /* every 10 minutes: a full reload (the ages in the lists, and a belt
   * for the braces of the event stream) */
  setInterval(() => { if (!downSince) reload().catch(() => {}); }, 600000);
}

window.FM = FM; /* for tests */
window.fmWall = { items, layers, ticker, get map() { return map; } };
start();
