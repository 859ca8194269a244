/* tools.js - positions in the officer's words, a map control (top right,
 * under the layers): a box where one types or pastes an MGRS reference or
 * a latitude, longitude (decimal or degrees, minutes, seconds) to fly
 * there and mark it, with a message for what it cannot read; and a
 * measuring tool: click two points, read the distance and the true
 * bearing along the geodesic (geo.js). */
import { parsePosition, inverse, distanceText, latLonText, mgrsText } from './geo.js';

const MARK = { color: '#1c7ed6', weight: 3, fillColor: '#fff', fillOpacity: 1, radius: 7, interactive: false };

export function addTools(map) {
  const Tools = L.Control.extend({
    options: { position: 'topright' },
    onAdd() {
      const div = L.DomUtil.create('div', 'fm-tools leaflet-bar');
      div.innerHTML = `<form id="goto-form" class="goto" autocomplete="off">
          <input id="goto" type="text" placeholder="MGRS or lat, lon" aria-label="go to a position: MGRS, or latitude and longitude" spellcheck="false">
          <button type="submit" class="small">Go</button>
        </form>
        <p id="goto-msg" class="msg" role="status" hidden></p>
        <div class="measure"><button type="button" id="measure" class="small" aria-pressed="false" title="click two points on the map">Measure</button>
        <span id="measure-out" class="out" role="status"></span></div>`;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    },
  });
  const ctl = new Tools().addTo(map);
  const el = ctl.getContainer();
  const input = el.querySelector('#goto'), msg = el.querySelector('#goto-msg');
  let mark = null;

  el.querySelector('#goto-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = parsePosition(input.value);
    msg.hidden = false;
    if (p.error) {
      msg.className = 'msg error';
      msg.textContent = p.error;
      input.classList.add('invalid');
      return;
    }
    input.classList.remove('invalid');
    msg.className = 'msg';
    const grid = mgrsText(p.lat, p.lon);
    msg.textContent = latLonText(p.lat, p.lon) + (grid ? ' · MGRS ' + grid : '');
    if (mark) mark.remove();
    mark = L.circleMarker([p.lat, p.lon], Object.assign({ className: 'fm-goto' }, MARK))
      .bindTooltip(input.value.trim(), { permanent: true, direction: 'right', offset: [10, 0], className: 'fm-goto-label' }).addTo(map);
    map.flyTo([p.lat, p.lon], Math.max(map.getZoom(), 13), { duration: 0.8 });
  });
  input.addEventListener('input', () => { input.classList.remove('invalid'); });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { input.value = ''; msg.hidden = true; if (mark) { mark.remove(); mark = null; } }
  });

  /* ---- measuring ------------------------------------------------------------ */
  const btn = el.querySelector('#measure'), out = el.querySelector('#measure-out');
  const drawn = L.layerGroup().addTo(map);
  let on = false, first = null, dblZoom = false;
  const setOn = (v) => {
    on = v;
    btn.setAttribute('aria-pressed', String(v));
    btn.classList.toggle('on', v);
    map.getContainer().classList.toggle('fm-measuring', v);
    /* while measuring, the items take no clicks (as while drawing) */
    map.getContainer().classList.toggle('fm-drawing', v || (map.pm && map.pm.globalDrawModeEnabled()));
    if (v) {
      if (map.pm) map.pm.disableDraw();
      map.closePopup();
      dblZoom = map.doubleClickZoom.enabled();
      map.doubleClickZoom.disable();
      out.textContent = 'click the first point';
      delete out.dataset.m;
      delete out.dataset.deg;
    } else {
      if (dblZoom) map.doubleClickZoom.enable();
      first = null;
      drawn.clearLayers();
      out.textContent = '';
      delete out.dataset.m;
      delete out.dataset.deg;
    }
  };
  btn.addEventListener('click', () => setOn(!on));
  map.on('pm:globaldrawmodetoggled', (e) => { if (e.enabled && on) setOn(false); });
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && on && !document.querySelector('.modal')) setOn(false); });
  map.on('click', (e) => {
    if (!on) return;
    const ll = e.latlng.wrap();
    if (!first || out.dataset.m) { /* a new measure */
      drawn.clearLayers();
      delete out.dataset.m;
      delete out.dataset.deg;
      first = ll;
      L.circleMarker(ll, Object.assign({ className: 'fm-measure' }, MARK, { radius: 5 })).addTo(drawn);
      out.textContent = 'click the second point';
      return;
    }
    const r = inverse(first, ll);
    L.circleMarker(ll, Object.assign({ className: 'fm-measure' }, MARK, { radius: 5 })).addTo(drawn);
    L.polyline([first, ll], { className: 'fm-measure', color: '#1c7ed6', weight: 3, dashArray: '8 6', interactive: false }).addTo(drawn);
    const text = distanceText(r.m) + ' · ' + r.deg.toFixed(1) + '° true';
    out.textContent = text;
    out.dataset.m = r.m.toFixed(1);
    out.dataset.deg = r.deg.toFixed(2);
    L.tooltip({ permanent: true, direction: 'top', className: 'fm-measure-label', offset: [0, -8] }).setLatLng(ll).setContent(text).addTo(drawn);
  });
}
