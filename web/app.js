/* app.js - the viewer, in ES modules: this one starts it, js/ holds the
 * rest, one concern each (state, ui, session, map, items, list, live,
 * conflicts, time, forms, edit). Login, the map with its layers, the item
 * list, the forms to draw zones, report incidents and notify movements, editing with
 * If-Match (a 412 becomes a reload / compare choice, never an overwrite),
 * the situation as of a past or a planned time (an item not yet in force
 * is drawn dotted and light), and live updates from /events. While a
 * drawing tool is on, the items on the map take no clicks: a vertex lands
 * where it is clicked, inside another zone too. Every row of the lists is
 * reached with Tab and opened with Enter or Space; map shapes are not in
 * the tab order. */
import * as FM from './common.js';
import { state } from './js/state.js';
import { $ } from './js/ui.js';
import { put } from './js/items.js';
import { renderList } from './js/list.js';
import { start } from './js/session.js';
import './js/time.js';

/* a tick so "5 min ago" stays true */
setInterval(() => {
  if ($('app').hidden) return;
  /* at now, an item whose window opened or closed is drawn anew */
  if (!state.asOf && !state.loading) {
    for (const [key, f] of state.items) {
      const layer = state.layers.get(key);
      if (layer && layer.fmPhase !== FM.phase(f.properties, Date.now()) && !(state.editing && state.editing.key === key) && !(layer.isPopupOpen && layer.isPopupOpen())) put(f, false);
    }
  }
  if (!document.querySelector('.modal')) renderList();
}, 60000);

window.FM = FM; /* for tests and the curious */
window.fmState = state;
start();
