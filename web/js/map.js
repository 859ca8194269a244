/* map.js - the Leaflet map: its layers, controls and drawing tools, the
 * basemap (or a grid without one), the cursor's position in lat/lon and
 * MGRS. */
import * as FM from '../common.js';
import { state, canDraw, tq } from './state.js';
import { $ } from './ui.js';
import { corridorWidth } from './items.js';
import { onDrawn } from './edit.js';
import { addLegend } from './legend.js';
import { addTools } from './tools.js';
import { initBrief } from './brief.js';

export function initMap() {
  state.map = L.map('map', { zoomControl: true, preferCanvas: false, worldCopyJump: true });
  window.fmMap = state.map; /* for tests */
  state.map.fitBounds(FM.AREA);
  state.groups = {
    zones: L.featureGroup().addTo(state.map),
    movements: L.featureGroup().addTo(state.map),
    incidents: L.featureGroup().addTo(state.map),
  };
  const overlays = { Zones: state.groups.zones, Movements: state.groups.movements, Incidents: state.groups.incidents };
  const control = L.control.layers({}, overlays, { collapsed: false, position: 'topright' }).addTo(state.map);
  state.groups.conflicts = L.featureGroup();
  state.layerControl = control;
  L.control.scale({ imperial: false, position: 'bottomright' }).addTo(state.map);
  /* go to a position, measure; the legend */
  addTools(state.map);
  addLegend(state.map);
  initBrief();
  /* the server's basemap when that route answers; else a plain background */
  fetch('/tiles/basemap.json', { credentials: 'same-origin' }).then((r) => {
    if (!r.ok) throw new Error('no basemap');
    state.baseLayer = L.tileLayer('/tiles/basemap/{z}/{x}/{y}.png' + tq(), { maxZoom: 18, attribution: 'basemap: Natural Earth' });
    state.baseLayer.addTo(state.map).bringToBack();
    control.addBaseLayer(state.baseLayer, 'Basemap');
    state.allLayer = L.tileLayer('/tiles/all/{z}/{x}/{y}.png' + tq(), { maxZoom: 18, opacity: 0.9 });
    control.addOverlay(state.allLayer, 'Server rendering (all layers)');
  }).catch(() => {
    const note = L.DomUtil.create('div', 'nobase', state.map.getContainer());
    note.textContent = 'no basemap on this server: grid only';
    graticule().addTo(state.map);
  });
  /* the area of interest */
  L.rectangle(FM.AREA, { color: '#5b6b7b', weight: 1, dashArray: '6 6', fill: false, interactive: false }).addTo(state.map);

  /* a shape with a tooltip listens for focus, and Chromium then puts an
   * SVG path in the tab order: the items are reached from the list, so
   * their shapes are taken out (tabindex -1) */
  state.map.on('layeradd', (e) => {
    const el = e.layer.getElement && e.layer.getElement();
    if (el && el.classList && el.classList.contains('fm-item')) el.setAttribute('tabindex', '-1');
  });
  state.map.on('mousemove', (e) => { $('cursor').textContent = position(e.latlng); });
  state.map.on('zoomend', () => { for (const [key, layer] of state.layers) if (key.startsWith('movements/')) corridorWidth(layer); });

  if (canDraw()) {
    state.map.pm.setGlobalOptions({ allowSelfIntersection: false, snappable: true });
    state.map.pm.addControls({
      position: 'topleft', drawMarker: true, drawPolygon: true, drawPolyline: true, drawRectangle: true,
      drawCircle: false, drawCircleMarker: false, drawText: false, editMode: false, dragMode: false,
      cutPolygon: false, removalMode: false, rotateMode: false,
    });
    state.map.on('pm:create', (e) => onDrawn(e.layer, e.shape));
    /* while a drawing tool is on, the items take no clicks (no popup, no
     * button under the next click): a vertex lands where it is clicked */
    state.map.on('pm:globaldrawmodetoggled', (e) => {
      state.map.getContainer().classList.toggle('fm-drawing', !!e.enabled);
      if (e.enabled) state.map.closePopup();
    });
    $('help').textContent = 'Draw with the tools on the map: a polygon or rectangle is a zone, a marker an incident, a line a movement route.';
  } else {
    $('help').textContent = 'Read only: you can look, filter and go back in time.';
  }
}

/* a light 0.1-degree grid with labels: the fallback when there is no basemap */
function graticule() {
  const g = L.layerGroup();
  const [[s0, w0], [n0, e0]] = FM.AREA;
  const s = s0 - 1, n = n0 + 1, w = w0 - 1, e = e0 + 1;
  const line = { color: '#9fb0c0', weight: 1, opacity: 0.6, interactive: false };
  for (let lat = Math.ceil(s * 10) / 10; lat <= n; lat = Math.round((lat + 0.1) * 10) / 10) {
    L.polyline([[lat, w], [lat, e]], Object.assign({}, line, { weight: Math.abs(lat * 2 - Math.round(lat * 2)) < 1e-9 ? 1.5 : 0.7 })).addTo(g);
  }
  for (let lon = Math.ceil(w * 10) / 10; lon <= e; lon = Math.round((lon + 0.1) * 10) / 10) {
    L.polyline([[s, lon], [n, lon]], Object.assign({}, line, { weight: Math.abs(lon * 2 - Math.round(lon * 2)) < 1e-9 ? 1.5 : 0.7 })).addTo(g);
  }
  return g;
}

export function position(ll) {
  const lat = ll.lat, lon = L.Util.wrapNum(ll.lng, [-180, 180], true);
  const f = (v, p, n) => Math.abs(v).toFixed(5) + '°' + (v >= 0 ? p : n);
  let grid = '';
  try {
    const m = mgrs.forward([lon, lat], 5).match(/^(\d{1,2}[A-Z])([A-Z]{2})(\d+)$/);
    if (m) grid = m[1] + ' ' + m[2] + ' ' + m[3].slice(0, m[3].length / 2) + ' ' + m[3].slice(m[3].length / 2);
  } catch (e) { grid = 'outside MGRS'; }
  return f(lat, 'N', 'S') + ' ' + f(lon, 'E', 'W') + '  ·  MGRS ' + grid;
}
