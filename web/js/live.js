/* live.js - the snapshot of the items (as of the time shown) and the
 * live events applied over it. */
import * as FM from '../common.js';
import { state, isAhead, keyOf } from './state.js';
import { $, toast } from './ui.js';
import { showLogin } from './session.js';
import { put, drop } from './items.js';
import { renderList } from './list.js';
import { loadConflicts, scheduleConflicts } from './conflicts.js';
import { THREAD_ACTIONS, threadEvent } from './thread.js';
import { panelEvent, refreshPanel } from './panel.js';
import { reasonEvent, clearReasons } from './reasons.js';
import { inboxEvent } from './inbox.js';

const { utc } = FM;

export async function reload() {
  const t = state.asOf;
  /* ahead of now the record is today's: what is planned is in it */
  const rec = t && !isAhead() ? t : null;
  state.loading = true;
  let all;
  try {
    all = await Promise.all(FM.COLLS.map((c) => FM.features(c, rec).then((fs) => fs.map((f) => Object.assign(f, { coll: c })))));
  } catch (e) {
    state.loading = false;
    if (e.status === 401) return showLogin('Your session has ended. Please log in again.');
    toast('Cannot load the items: ' + e.message);
    return;
  }
  if (t !== state.asOf) return; /* the slider moved meanwhile */
  for (const layer of state.layers.values()) layer.remove();
  state.items.clear();
  state.layers.clear();
  for (const fs of all) for (const f of fs) put(f, false);
  state.loading = false;
  if (!rec) for (const e of state.queue.splice(0)) apply(e, false);
  state.queue.length = 0;
  clearReasons();
  renderList();
  loadConflicts();
  refreshPanel();
}

export function onEvent(e) {
  reasonEvent(e); /* a dispute's reason, for the lists (reasons.js) */
  if (!state.loading) panelEvent(e); /* the item panel redraws what concerns it (panel.js) */
  inboxEvent(e); /* what waits for the user may have changed (inbox.js) */
  if (e.action === 'overdue') { /* no version: a mark on the one it names */
    if (state.loading) { if (state.queue.length < 10000) state.queue.push(e); return; }
    if (!state.asOf || isAhead()) { apply(e, false); renderList(); }
    return;
  }
  if (THREAD_ACTIONS.has(e.action)) { threadEvent(e); return; } /* no item version: an answer, a message, a ruling (thread.js) */
  if (e.collection === 'conflicts') { scheduleConflicts(); return; }
  if (!e.collection || !FM.COLLS.includes(e.collection)) return;
  if (state.loading) {
    if (state.queue.length < 10000) state.queue.push(e);
    return;
  }
  if (state.asOf && !isAhead()) {
    state.missed++;
    $('banner').textContent = `Situation as of ${utc(state.asOf)} · read only · ${state.missed} change(s) since you looked back`;
    return;
  }
  apply(e, true);
  renderList();
  scheduleConflicts();
}

/* An "overdue" record (rules.c): the version it names, if still the one
 * shown, is drawn marked (an answer, an amendment or a withdrawal makes a
 * new version, which is not). */
function markOverdue(key, e) {
  const f = state.items.get(key);
  if (!f || f.properties.version !== e.version || f.properties.overdue) return;
  f.properties.overdue = true;
  f.properties.overdue_at = (e.after && e.after.overdue_at) || e.at;
  if (state.editing && state.editing.key === key) return; /* drawn when the edit ends */
  const layer = state.layers.get(key);
  /* an open popup stays: the item is drawn anew once it closes */
  if (layer && layer.isPopupOpen && layer.isPopupOpen()) {
    layer.once('popupclose', () => { const g = state.items.get(key); if (g === f) put(f, false); });
    return;
  }
  put(f, false);
}

/* One event onto the map; an older version never replaces a newer one. */
export function apply(e, flash) {
  const key = keyOf(e.collection, e.item);
  if (e.action === 'overdue') { markOverdue(key, e); return; }
  const f = e.after;
  /* a record about the item that is no version of it (an "overdue" mark, say) */
  if (f && f.type !== 'Feature') return;
  const have = state.items.get(key);
  if (have && have.properties.version > e.version) return;
  if (f && f.properties && f.properties.status !== 'withdrawn') {
    if (state.editing && state.editing.key === key) {
      toast(`${e.user} just changed “${f.properties.title}” while you edit its shape.`);
      state.items.set(key, Object.assign(f, { coll: e.collection }));
      return;
    }
    put(Object.assign(f, { coll: e.collection }), flash);
  } else {
    drop(key);
  }
}
