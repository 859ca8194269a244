/* conflicts.js - the open conflicts the server finds: listed, drawn in
 * red, flown to from the list. */
import * as FM from '../common.js';
import { state } from './state.js';
import { $, rowKeys } from './ui.js';

const { esc, words, ago } = FM;

/* Open conflicts in red, when the server finds them (absent: no layer). */
export async function loadConflicts() {
  if (state.noConflicts) return;
  const t = state.asOf;
  /* the past: the conflicts as their records told them then (t=). Ahead
   * of now nothing is recorded yet: the conflicts of now are not shown as
   * if they were of then. A server that knows the conflicts of now only
   * (400 for t=, asked once): the same. */
  if (t && (state.conflictsNowOnly || Date.parse(t) > Date.now())) return conflictsNowOnly();
  let fs;
  try {
    fs = await FM.features('conflicts', t);
  } catch (e) {
    if (e.status === 404) state.noConflicts = true;
    if (e.status === 400 && t) {
      state.conflictsNowOnly = true;
      if (t === state.asOf) conflictsNowOnly();
    }
    return;
  }
  if (t !== state.asOf) return; /* the slider moved meanwhile */
  $('conflicts-note').hidden = true;
  $('conflict-list').hidden = false;
  if (!state.conflictsShown) {
    state.conflictsShown = true;
    state.groups.conflicts.addTo(state.map);
    state.layerControl.addOverlay(state.groups.conflicts, 'Conflicts');
  }
  /* a conflict named on the map stays named when the list is redrawn
   * (a live change elsewhere redraws it while the person reads) */
  const named = state.namedConflict && state.conflictLayers.get(state.namedConflict)?.isTooltipOpen()
    ? state.namedConflict : null;
  state.groups.conflicts.clearLayers();
  state.conflictLayers.clear();
  /* the most severe first, then the newest */
  const open = fs.filter((f) => f.geometry && (f.properties.state || 'open') === 'open');
  open.sort((a, b) => (b.properties.severity || 0) - (a.properties.severity || 0) ||
    String(b.properties.opened_at).localeCompare(String(a.properties.opened_at)));
  const ul = $('conflict-list');
  const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.id : null;
  ul.textContent = '';
  for (const f of open) {
    const p = f.properties;
    const names = FM.conflictNames(p, state.items).join(' × ');
    const layer = L.geoJSON(f.geometry, {
      style: { className: 'fm-item', color: '#c92a2a', weight: 3, fillColor: '#c92a2a', fillOpacity: 0.35, dashArray: '2 4' },
      pointToLayer: (g, ll) => L.circleMarker(ll, { className: 'fm-item', radius: 9, color: '#c92a2a', weight: 3 }),
    }).bindTooltip(esc(words(p.kind || 'conflict') + ': ' + names), { sticky: true }).addTo(state.groups.conflicts);
    state.conflictLayers.set(String(f.id), layer);
    if (ul.children.length >= 100) continue;
    const li = document.createElement('li');
    li.dataset.id = f.id;
    li.innerHTML = `<span class="t" title="${esc(names)}">${esc(names || 'conflict ' + f.id)}</span>` +
      `<span class="m">${esc(words(p.kind || 'conflict'))}${p.severity ? ' · severity ' + esc(p.severity) : ''} · since ${esc(ago(p.opened_at || p.updated_at))}</span>`;
    li.addEventListener('click', () => flyToConflict(String(f.id), li));
    rowKeys(li, () => flyToConflict(String(f.id), li));
    ul.appendChild(li);
  }
  if (!open.length) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = state.asOf ? 'None open at that time.' : 'None open.';
    ul.appendChild(li);
  }
  if (focused) { const row = ul.querySelector(`li[data-id="${focused}"]`); if (row) row.focus(); }
  const again = named && state.conflictLayers.get(named);
  if (again) again.openTooltip(again.getBounds().getCenter());
  $('conflict-count').textContent = open.length;
  $('conflicts-box').hidden = false;
}
export function conflictsNowOnly() {
  state.groups.conflicts.clearLayers();
  state.conflictLayers.clear();
  $('conflict-list').textContent = '';
  $('conflict-list').hidden = true;
  $('conflict-count').textContent = '–';
  $('conflicts-note').hidden = false;
  $('conflicts-box').hidden = false;
}

/* Flies to a listed conflict and names it on the map. */
export function flyToConflict(id, li) {
  const layer = state.conflictLayers.get(id);
  if (!layer) return;
  for (const el of $('conflict-list').children) el.classList.toggle('sel', el === li);
  const b = layer.getBounds();
  if (!b.isValid()) return;
  state.map.flyToBounds(b, { maxZoom: 14, padding: [60, 60], duration: 0.8 });
  state.namedConflict = id;
  state.map.once('moveend', () => {
    /* the list may have been redrawn during the flight: name the layer of now */
    const now = state.conflictLayers.get(id);
    if (now && state.namedConflict === id) now.openTooltip(now.getBounds().getCenter());
  });
}
let conflictTimer = null;
export function scheduleConflicts() {
  if (conflictTimer || state.noConflicts) return;
  conflictTimer = setTimeout(() => { conflictTimer = null; loadConflicts(); }, 1000);
}
