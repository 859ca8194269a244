/* items.js - the items on the map: a layer per item (colour by party,
 * dashes by status and time), its popup with the actions the user may
 * take, and selecting one. */
import * as FM from '../common.js';
import { state, colour, canEdit, canAck, keyOf, viewTime } from './state.js';
import { renderList } from './list.js';
import { editDetails, editShape, withdraw, ack } from './edit.js';
import { threadPanel } from './thread.js';
import { openPanel, panelKey } from './panel.js';
import { symbolIcon, marksOf, LATE_COLOUR, OVERDUE_COLOUR } from './symbols.js';

const { esc, words, utc, KIND } = FM;

export function put(f, flash) {
  const key = keyOf(f.coll, f.id);
  const old = state.layers.get(key);
  if (old) old.remove();
  state.items.set(key, f);
  const layer = makeLayer(f);
  layer.fmKey = key;
  layer.on('click', () => select(key, false));
  layer.bindPopup(() => popup(key), { maxWidth: 360 });
  state.groups[f.coll].addLayer(layer);
  state.layers.set(key, layer);
  if (flash) state.flash = key;
}

export function drop(key) {
  const old = state.layers.get(key);
  if (old) old.remove();
  state.layers.delete(key);
  state.items.delete(key);
}

/* Items take the class fm-item (no clicks while drawing) and stay out of
 * the tab order (the list reaches them). An item not yet in force at the
 * time shown is dotted and light; one whose window is over, faded. The
 * marks of deadlines, as the server's tiles draw them (symbols.js): an
 * item whose answer is overdue has amber dashes along its outline or
 * route (a ring around its symbol), one notified late purple beads under
 * them (a clock on its symbol). */
function markLayers(f, g) {
  const m = marksOf(f);
  const mark = (cls, style) => L.geoJSON(g, { interactive: false, style: Object.assign({ className: 'fm-mark ' + cls, fill: false, opacity: 1 }, style) });
  return {
    late: m.late ? mark('fm-late-mark', { color: LATE_COLOUR, weight: 7, dashArray: '0.1 14', lineCap: 'round' }) : null,
    overdue: m.overdue ? mark('fm-overdue-mark', { color: OVERDUE_COLOUR, weight: 4, dashArray: '8 5' }) : null,
  };
}

export function makeLayer(f) {
  const p = f.properties, c = colour(p.party);
  const draft = p.status === 'draft', disputed = p.status === 'disputed';
  const ph = FM.phase(p, viewTime()), ahead = ph === 'ahead', over = ph === 'over';
  const cls = 'fm-item' + (ahead ? ' fm-ahead' : over ? ' fm-over' : '');
  const dim = ahead ? 0.55 : over ? 0.35 : 1;
  let layer;
  const me = state.me && state.me.party;
  if (f.coll === 'incidents') {
    /* its 2525D symbol (symbols.js), bigger the more severe */
    const sev = Number(p.severity) || 1;
    const [lon, lat] = f.geometry.type === 'Point' ? f.geometry.coordinates : [0, 0];
    layer = L.marker([lat, lon], { icon: symbolIcon(f, me, c, 16 + sev * 3, cls), title: p.title || 'incident', keyboard: false,
      opacity: draft ? 0.6 : dim });
  } else if (f.coll === 'movements') {
    /* a disputed movement in red, as disputed zones and incidents */
    const lc = disputed ? '#c92a2a' : c;
    const g = L.featureGroup();
    const route = L.geoJSON(f.geometry, { style: { className: cls, color: lc, weight: disputed ? 4 : 3, opacity: dim,
      dashArray: ahead ? '2 6' : draft ? '4 6' : p.status === 'in_progress' ? null : '10 6' } });
    const corridor = L.geoJSON(f.geometry, { style: { className: cls, color: lc, weight: 8, opacity: (disputed ? 0.3 : 0.18) * dim, lineCap: 'round' }, interactive: true });
    const mk = markLayers(f, f.geometry);
    g.addLayer(corridor);
    if (mk.late) g.addLayer(mk.late);
    if (mk.overdue) g.addLayer(mk.overdue);
    g.addLayer(route);
    /* the unit's symbol where the route starts (planned: dashed frame) */
    const start = firstPosition(f.geometry);
    if (start) g.addLayer(L.marker([start[1], start[0]], { icon: symbolIcon(f, me, c, 26, cls), title: p.title || 'movement', keyboard: false,
      opacity: draft ? 0.6 : dim }));
    g.fmCorridor = corridor;
    g.fmWidth = Number(p.corridor_width_m) || 0;
    corridorWidth(g);
    route.bindTooltip(esc(p.title || 'movement') + (ahead ? ' (not yet in force)' : ''), { sticky: true });
    layer = g;
  } else {
    layer = L.geoJSON(f.geometry, {
      style: {
        className: cls, color: disputed ? '#c92a2a' : c, weight: disputed ? 3 : 2, fillColor: c, opacity: dim,
        fillOpacity: (draft || ahead ? 0.05 : p.type === 'no_fly' ? 0.22 : 0.14) * (over ? 0.5 : 1),
        dashArray: ahead ? '2 6' : draft ? '6 5' : null,
      },
    });
    const mk = markLayers(f, f.geometry);
    if (mk.late || mk.overdue) {
      /* under the outline the beads, over it the dashes */
      const g = L.featureGroup();
      if (mk.late) g.addLayer(mk.late);
      g.addLayer(layer);
      if (mk.overdue) g.addLayer(mk.overdue);
      layer = g;
    }
    layer.bindTooltip(esc(p.title || 'zone') + (ahead ? ' (not yet in force)' : ''), { sticky: true });
  }
  layer.fmPhase = ph;
  return layer;
}

function firstPosition(g) {
  if (!g) return null;
  if (g.type === 'Point') return g.coordinates;
  if (g.type === 'LineString') return g.coordinates[0];
  if (g.type === 'MultiLineString') return g.coordinates[0] && g.coordinates[0][0];
  return null;
}

export function corridorWidth(g) {
  if (!g.fmCorridor || !state.map) return;
  const lat = state.map.getCenter().lat;
  const mpp = 40075016.686 * Math.cos(lat * Math.PI / 180) / Math.pow(2, state.map.getZoom() + 8);
  const px = Math.max(6, Math.min(200, g.fmWidth / mpp));
  g.fmCorridor.setStyle({ weight: px });
}

export function chip(status) { return `<span class="chip st-${esc(status)}">${esc(words(status))}</span>`; }
export function partyChip(party) {
  return `<span class="chip party" style="background:${esc(colour(party))}">${esc(party)}</span>`;
}

export function popup(key) {
  const f = state.items.get(key);
  if (!f) return 'gone';
  const p = f.properties, rows = [];
  const row = (k, v) => { if (v !== undefined && v !== null && v !== '') rows.push(`<tr><td>${esc(k)}</td><td>${v}</td></tr>`); };
  row('kind', esc(KIND[f.coll]));
  row('type', esc(words(p.type)));
  row('category', esc(words(p.category)));
  row('severity', p.severity !== undefined ? esc(p.severity) + ' / 5' : '');
  row('occurred', esc(utc(p.occurred_at)));
  row('valid from', esc(utc(p.valid_from)));
  row('valid to', esc(utc(p.valid_to)));
  if (p.altitude_floor_m !== undefined || p.altitude_ceiling_m !== undefined)
    row('altitude', esc((p.altitude_floor_m ?? '…') + ' – ' + (p.altitude_ceiling_m ?? '…') + ' m AMSL'));
  row('corridor', p.corridor_width_m !== undefined ? esc(p.corridor_width_m) + ' m wide' : '');
  /* lead times and deadlines (rules.c; inbox.js keeps state.overdue) */
  const dur = (s) => (s >= 3600 ? Math.round(s / 3600) + ' h' : Math.round(s / 60) + ' min');
  if (p.urgent) row('urgent', `<span class="chip urgent">urgent</span> <span class="why" dir="auto">${esc(p.urgent_reason || '')}</span>`);
  if (p.late_notice) row('notice', `<span class="chip late">late notice</span> ${esc(dur(p.notice_required_s || 0))} asked`);
  const overdue = p.overdue || (state.overdue && state.overdue.has(key));
  if (p.answer_due) row('answer due', esc(utc(p.answer_due)) + (overdue ? ' <span class="chip overdue">overdue</span>' : ''));
  row('changed', esc(utc(p.updated_at)) + ' by ' + esc(p.updated_by) + ' (v' + esc(p.version) + ')');
  const div = document.createElement('div');
  div.className = 'pop';
  div.innerHTML = `<h3>${esc(p.title || '(untitled)')}</h3><div>${partyChip(p.party)} ${chip(p.status)}</div>` +
    (p.description ? `<p>${esc(p.description)}</p>` : '') + `<table>${rows.join('')}</table>`;
  /* the dispute, ruling and thread (thread.js); the conversation in the
   * item panel when it shows this item */
  if (!state.asOf) div.appendChild(threadPanel(f, panelKey() === key, () => inView(div)));
  const more = document.createElement('div');
  more.className = 'actions';
  const details = document.createElement('button');
  details.className = 'details';
  details.textContent = 'Details: versions, answers, conflicts';
  details.addEventListener('click', () => { state.map.closePopup(); openPanel(key); });
  more.appendChild(details);
  div.appendChild(more);
  if (canEdit(f)) {
    const actions = document.createElement('div');
    actions.className = 'actions';
    const b = (label, fn, cls) => {
      const el = document.createElement('button');
      el.textContent = label;
      if (cls) el.className = cls;
      el.addEventListener('click', () => { state.map.closePopup(); fn(); });
      actions.appendChild(el);
    };
    b('Edit details', () => editDetails(key));
    b('Edit shape', () => editShape(key));
    b('Withdraw', () => withdraw(key), 'danger');
    div.appendChild(actions);
  } else if (canAck(f)) {
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const [label, decision] of [['Acknowledge', 'ack'], ['Dispute…', 'dispute']]) {
      const el = document.createElement('button');
      el.textContent = label;
      if (decision === 'dispute') el.className = 'danger';
      el.addEventListener('click', () => { state.map.closePopup(); ack(key, decision); });
      actions.appendChild(el);
    }
    div.appendChild(actions);
  }
  return div;
}

/* A popup that grew when its thread arrived: the map moves so that its top
 * is in view (the popup caps its height, app.css). */
function inView(div) {
  const box = div.closest('.leaflet-popup');
  if (!box || !state.map) return;
  const r = box.getBoundingClientRect(), m = state.map.getContainer().getBoundingClientRect();
  if (r.top < m.top + 8) state.map.panBy([0, r.top - m.top - 8], { animate: false });
}

/* keyboard: the popup opened from a list row takes the focus, and
 * Escape gives it back to the row */
export function select(key, fly, keyboard) {
  state.selected = key;
  if (panelKey() && panelKey() !== key) openPanel(key); /* the open panel follows the selection */
  const layer = state.layers.get(key);
  if (!layer) return;
  if (fly) {
    if (layer.getLatLng) state.map.flyTo(layer.getLatLng(), Math.max(state.map.getZoom(), 12), { duration: 0.8 });
    else state.map.flyToBounds(layer.getBounds(), { maxZoom: 13, padding: [40, 40], duration: 0.8 });
    state.map.once('moveend', () => {
      if (!layer.openPopup) return;
      if (layer.getLatLng) layer.openPopup(); else layer.openPopup(layer.getBounds().getCenter());
      const pop = keyboard && document.querySelector('.leaflet-popup-content .pop');
      if (!pop) return;
      const first = pop.querySelector('button') || pop;
      if (first === pop) pop.tabIndex = -1;
      first.focus();
      pop.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Escape') return;
        state.map.closePopup();
        const row = document.querySelector(`#list li[data-key="${key}"]`);
        if (row) row.focus();
      });
    });
  }
  renderList();
  if (keyboard) { const row = document.querySelector(`#list li[data-key="${key}"]`); if (row) row.focus(); }
}
