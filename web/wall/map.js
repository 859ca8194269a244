/* map.js - the wall's map: read only, fitted to the area of interest; the
 * items drawn in their party's colours (planned ones dotted and light,
 * disputed ones red), a click on a listed conflict flies there and, left
 * alone, the wall goes back to the whole area a minute later.
 *
 * Labels never overlap (declutter): after every redraw and move, the
 * labels are laid out in order of importance (incidents by severity, then
 * zones by the area they cover on screen, ties by key): a label goes at
 * its place (a zone's also a line above or below) if its box meets no
 * label already shown and stays on the map, else it is hidden until the
 * next layout. They are big enough to read across a room (24 px at
 * 1920 px wide, wall.css). */
import * as FM from '../common.js';
import { items, layers, wall, colour } from './state.js';

const { esc } = FM;

export function initMap() {
  const map = wall.map = L.map('map', {
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
  wall.group = L.layerGroup().addTo(map);
  wall.conflictLayer = L.layerGroup().addTo(map);
  /* the area of interest, so the map is never just black */
  L.rectangle(FM.AREA, { color: '#4dabf7', weight: 2, dashArray: '8 8', fill: false, interactive: false }).addTo(map);
  map.on('zoomend moveend resize', () => declutter());
}

export function draw(key, f) {
  const old = layers.get(key);
  if (old) { wall.group.removeLayer(old); layers.delete(key); }
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
  wall.group.addLayer(layer);
  layers.set(key, layer);
  declutter();
}

/* The order in which labels claim their place: incidents by severity,
 * then zones by their area on screen, then by key (stable). */
function rank(key, layer) {
  const f = items.get(key), p = (f && f.properties) || {};
  if (f && f.coll === 'incidents') return [0, -(Number(p.severity) || 0), key];
  let area = 0;
  if (layer.getBounds && wall.map) {
    const b = layer.getBounds(), a = wall.map.latLngToContainerPoint(b.getNorthWest()), c = wall.map.latLngToContainerPoint(b.getSouthEast());
    area = Math.abs((c.x - a.x) * (c.y - a.y));
  }
  return [1, -area, key];
}
function before(a, b) { return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0); }

let declutterTimer = null;
/* Lays the labels out again soon (a burst of draws lays them out once). */
export function declutter(now) {
  if (!now) {
    if (!declutterTimer) declutterTimer = setTimeout(() => { declutterTimer = null; declutter(true); }, 30);
    return;
  }
  if (!wall.map) return;
  const box = wall.map.getContainer().getBoundingClientRect();
  const labels = [];
  for (const [key, layer] of layers) {
    const t = layer.getTooltip && layer.getTooltip(), el = t && t.getElement && t.getElement();
    if (el) labels.push({ el, r: rank(key, layer) });
  }
  labels.sort((a, b) => before(a.r, b.r));
  const shown = [], pad = 3;
  const free = (r) => r.width && r.left >= box.left && r.top >= box.top && r.right <= box.right && r.bottom <= box.bottom &&
    !shown.some((s) => r.left < s.right + pad && r.right > s.left - pad && r.top < s.bottom + pad && r.bottom > s.top - pad);
  for (const l of labels) {
    l.el.style.visibility = '';
    l.el.style.marginTop = '';
    const r0 = l.el.getBoundingClientRect();
    /* a zone's name may also sit a line above or below its middle */
    const shifts = l.r[0] === 1 ? [0, -1.2, 1.2] : [0];
    const dy = shifts.find((k) => free(new DOMRect(r0.x, r0.y + k * r0.height, r0.width, r0.height)));
    if (dy === undefined) {
      l.el.style.visibility = 'hidden';
      l.el.dataset.hidden = '1';
    } else {
      if (dy) l.el.style.marginTop = dy * r0.height + 'px';
      delete l.el.dataset.hidden;
      shown.push(new DOMRect(r0.x, r0.y + dy * r0.height, r0.width, r0.height));
    }
  }
}

/* A click on a listed conflict flies there; the wall, left alone, goes
 * back to the whole area a minute later. */
let backTimer = null;
export function flyTo(geometry) {
  if (!geometry) return;
  const b = L.geoJSON(geometry).getBounds();
  if (!b.isValid()) return;
  wall.map.flyToBounds(b, { maxZoom: 14, padding: [80, 80], duration: 1 });
  clearTimeout(backTimer);
  backTimer = setTimeout(() => wall.map.flyToBounds(FM.AREA, { padding: [20, 20], duration: 1 }), 60000);
}
