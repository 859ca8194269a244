/* wall.js - the briefing wall: read only, live, for days unattended. This
 * module starts it and keeps the picture (snapshot, then events); wall/
 * holds the rest, one concern each: state (what they share), signin (the
 * token), clock, map (drawing, labels that never overlap, fly-to), lists
 * (conflicts, disputes with their reasons and what waits, newest first,
 * paging), ticker (what happened, and the cell's messages to all).
 *
 * Memory stays flat: the map's layers are replaced, never accumulated; the
 * ticker and lists are bounded; no listener is added after start-up. */
import * as FM from './common.js';
import { $, items, layers, ticker, cell, parties, wall, PAGE_MS } from './wall/state.js';
import { takeTokenFromUrl, signIn, gate } from './wall/signin.js';
import { tick } from './wall/clock.js';
import { initMap, draw, flyTo } from './wall/map.js';
import { loadConflicts, renderOpen, pages, pager } from './wall/lists.js';
import { renderTicker, addTicker, line, backfill } from './wall/ticker.js';
import { reasonEvent, clearReasons, onLearn } from './js/reasons.js';

const { api } = FM;
const queue = [];

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
function tickerChanged() { tickerDirty = true; scheduleRender(); }

async function reload() {
  wall.loading = true;
  let all;
  try {
    all = await Promise.all(FM.COLLS.map((c) => FM.features(c, null).then((fs) => fs.map((f) => Object.assign(f, { coll: c })))));
  } catch (e) {
    wall.needReload = true; /* again once the stream is back */
    throw e;
  } finally {
    wall.loading = false;
  }
  wall.needReload = false;
  for (const key of [...layers.keys()]) draw(key, null);
  items.clear();
  for (const fs of all) for (const f of fs) { const k = f.coll + '/' + f.id; items.set(k, f); draw(k, f); }
  for (const e of queue.splice(0)) apply(e);
  clearReasons();
  renderOpen();
  await loadConflicts();
  wall.lastUpdate = new Date();
  if (wall.head) backfill(wall.head, tickerChanged); /* titles known now */
}

function onEvent(e) {
  wall.lastUpdate = new Date();
  reasonEvent(e);
  /* an answer, a message, a receipt, a ruling: a line, never a version
   * (drawn as one, it took the item off the map) */
  if (FM.THREAD_ACTIONS.has(e.action)) {
    const l = line(e, null, Date.now());
    if (l) addTicker([l], tickerChanged);
    if (e.action === 'dispute') scheduleOpen();
    return;
  }
  if (e.collection === 'conflicts') {
    const l = line(e, null, Date.now());
    if (l) addTicker([l], tickerChanged);
    loadConflicts();
    return;
  }
  if (!FM.COLLS.includes(e.collection)) return;
  /* overdue (rules.c): a mark on the version, no new version of it */
  if (e.action === 'overdue') {
    const f = items.get(e.collection + '/' + e.item);
    if (f && f.properties.version === e.version) Object.assign(f.properties, { overdue: true, overdue_at: (e.after && e.after.overdue_at) || e.at });
    scheduleOpen();
    return;
  }
  /* the line before the event is applied: a withdrawn item keeps its title */
  const l = line(e, null, Date.now());
  if (l) addTicker([l], tickerChanged);
  if (wall.loading) { if (queue.length < 10000) queue.push(e); return; }
  apply(e);
  scheduleOpen();
  scheduleConflicts();
}

/* one event onto the map; an older version never replaces a newer one */
function apply(e) {
  const key = e.collection + '/' + e.item, f = e.after;
  if (f && f.type !== 'Feature') return; /* a record about the item that is no version of it */
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
  if (conflictTimer || !wall.conflictsAvailable) return;
  conflictTimer = setTimeout(() => { conflictTimer = null; loadConflicts(); }, 1500);
}

function setConn(s) {
  $('conn').className = 'conn ' + s;
  $('conn').textContent = s === 'live' ? 'LIVE' : 'RECONNECTING…';
  if (s === 'live') {
    if (wall.needReload) reload().catch(() => {});
    wall.downSince = null;
    $('stale').hidden = true;
  } else if (!wall.downSince) {
    wall.downSince = Date.now();
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
  try { await FM.loadVocabulary(); } catch (e) { /* the words as stored */ }
  initMap();
  /* the lists page by themselves; a person scrolling them stops that a while */
  setInterval(pager, PAGE_MS);
  /* an item whose window opens is drawn anew (solid) */
  setInterval(() => {
    for (const [key, f] of items) { const l = layers.get(key); if (l && l.fmAhead !== (FM.phase(f.properties, Date.now()) === 'ahead')) draw(key, f); }
  }, 60000);
  onLearn(scheduleOpen); /* a dispute's reason arrived */
  for (const id of ['conflicts', 'disputes', 'open']) {
    const ul = $(id);
    for (const ev of ['wheel', 'touchstart', 'pointerdown', 'keydown']) ul.addEventListener(ev, () => { ul.dataset.touched = Date.now(); }, { passive: true });
    ul.addEventListener('scroll', pages, { passive: true });
  }
  window.addEventListener('resize', pages);
  /* a click on a listed conflict flies there (one listener for all rows) */
  $('conflicts').addEventListener('click', (ev) => {
    const li = ev.target.closest('li[data-i]');
    const f = li && wall.conflictsShown[Number(li.dataset.i)];
    if (f) flyTo(f.geometry);
  });
  wall.loading = true; /* events wait until the first snapshot is in */
  const handlers = {
    event: onEvent,
    /* the stream's first "position" is the head of the log at connect */
    position: (seq) => { if (!wall.head) wall.head = seq; if (!wall.loading) backfill(wall.head, tickerChanged); },
    reset: () => reload().catch(() => {}),
    state: setConn,
    ended: async () => {
      /* the session ended: trade the token again, or show the gate */
      wall.stream.stop();
      setConn('reconnecting');
      const again = await signIn().catch(() => null);
      if (again) { wall.stream = FM.stream(handlers); reload().catch(() => {}); } else gate('The session has ended.');
    },
  };
  wall.stream = FM.stream(handlers);
  await reload().catch(() => {});
  /* every 10 minutes: a full reload (the ages in the lists, and a belt
   * for the braces of the event stream) */
  setInterval(() => { if (!wall.downSince) reload().catch(() => {}); }, 600000);
}

window.FM = FM; /* for tests */
window.fmWall = { items, layers, ticker, cell, get map() { return wall.map; } };
start();
