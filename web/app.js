/* app.js - the viewer: login, the map with its layers, the item list, the
 * forms to draw zones, report incidents and notify movements, editing with
 * If-Match (a 412 becomes a reload / compare choice, never an overwrite),
 * the situation as of a past or a planned time (an item not yet in force
 * is drawn dotted and light), and live updates from /events. While a
 * drawing tool is on, the items on the map take no clicks: a vertex lands
 * where it is clicked, inside another zone too. Every row of the lists is
 * reached with Tab and opened with Enter or Space; map shapes are not in
 * the tab order. */
'use strict';

(function () {
  const { api, esc, words, utc, ago, KIND } = FM;
  const $ = (id) => document.getElementById(id);

  const state = {
    me: null,
    parties: {},
    items: new Map(), /* "zones/3" -> Feature (with .coll) */
    layers: new Map(), /* "zones/3" -> Leaflet layer */
    conflictLayers: new Map(), /* open conflict id -> its Leaflet layer */
    asOf: null, /* ISO time when looking at the past or ahead, else null (live) */
    missed: 0, /* live events while looking at the past */
    stream: null,
    selected: null,
    editing: null, /* {key, layer, version} while a shape is being edited */
    loading: false, /* a snapshot is being fetched: events wait in queue */
    queue: [],
  };
  let map, groups, baseLayer, allLayer;

  /* ---- login -------------------------------------------------------------- */

  function showLogin(message) {
    if (state.stream) { state.stream.stop(); state.stream = null; }
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    if (location.pathname !== '/login') history.replaceState(null, '', '/login');
    $('login-user').focus();
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const user = $('login-user').value.trim(), password = $('login-password').value;
    if (!user || !password) { $('login-error').textContent = 'Enter your user name and password.'; return; }
    try {
      await api('POST', '/login', { user, password });
      $('login-password').value = '';
      history.replaceState(null, '', '/');
      start();
    } catch (e) {
      $('login-error').textContent = e.status === 401 ? 'Wrong user name or password.' : 'Cannot log in: ' + e.message;
    }
  });

  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/logout'); } catch (e) { /* logged out anyway */ }
    location.href = '/login';
  });

  /* ---- start ------------------------------------------------------------- */

  async function start() {
    try {
      state.me = (await api('GET', '/me')).json;
    } catch (e) {
      showLogin(e.status === 401 ? '' : 'The server cannot be reached: ' + e.message);
      return;
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').textContent = state.me.user + ' · ' + state.me.party + ' · ' + state.me.role;
    try {
      for (const p of (await api('GET', '/parties')).json) state.parties[p.code] = p;
    } catch (e) { /* colours fall back */ }
    fillFilters();
    if (!map) initMap();
    /* the stream first, then the snapshot: events that arrive meanwhile
     * wait in a queue and are applied over it (newer versions win) */
    state.loading = true;
    state.stream = FM.stream({
      event: onEvent,
      reset: () => reload(),
      state: (s) => {
        $('conn').className = 'conn ' + s;
        $('conn').textContent = s === 'live' ? 'live' : 'reconnecting…';
        if (s === 'live' && state.wasDown) { state.wasDown = false; }
        if (s !== 'live') state.wasDown = true;
      },
      ended: () => showLogin('Your session has ended. Please log in again.'),
    });
    await reload();
  }

  function canEdit(f) {
    return !state.asOf && state.me && state.me.role !== 'viewer' && f.properties.party === state.me.party;
  }
  /* another party's item that waits for an answer */
  function canAck(f) {
    return !state.asOf && state.me && (state.me.role === 'liaison' || state.me.role === 'supervisor') &&
      f.properties.party !== state.me.party && FM.OPEN_STATUSES.has(f.properties.status);
  }
  function canDraw() {
    return state.me && (state.me.role === 'liaison' || state.me.role === 'admin' || state.me.role === 'supervisor');
  }
  function colour(party) {
    return (state.parties[party] && state.parties[party].colour) || '#495057';
  }

  /* ---- the map ------------------------------------------------------------- */

  function initMap() {
    map = L.map('map', { zoomControl: true, preferCanvas: false, worldCopyJump: true });
    window.fmMap = map; /* for tests */
    map.fitBounds(FM.AREA);
    groups = {
      zones: L.featureGroup().addTo(map),
      movements: L.featureGroup().addTo(map),
      incidents: L.featureGroup().addTo(map),
    };
    const overlays = { Zones: groups.zones, Movements: groups.movements, Incidents: groups.incidents };
    const control = L.control.layers({}, overlays, { collapsed: false, position: 'topright' }).addTo(map);
    groups.conflicts = L.featureGroup();
    state.layerControl = control;
    L.control.scale({ imperial: false, position: 'bottomright' }).addTo(map);
    /* the server's basemap when that route answers; else a plain background */
    fetch('/tiles/basemap.json', { credentials: 'same-origin' }).then((r) => {
      if (!r.ok) throw new Error('no basemap');
      baseLayer = L.tileLayer('/tiles/basemap/{z}/{x}/{y}.png' + tq(), { maxZoom: 18, attribution: 'basemap: Natural Earth' });
      baseLayer.addTo(map).bringToBack();
      control.addBaseLayer(baseLayer, 'Basemap');
      allLayer = L.tileLayer('/tiles/all/{z}/{x}/{y}.png' + tq(), { maxZoom: 18, opacity: 0.9 });
      control.addOverlay(allLayer, 'Server rendering (all layers)');
    }).catch(() => {
      const note = L.DomUtil.create('div', 'nobase', map.getContainer());
      note.textContent = 'no basemap on this server: grid only';
      graticule().addTo(map);
    });
    /* the area of interest */
    L.rectangle(FM.AREA, { color: '#5b6b7b', weight: 1, dashArray: '6 6', fill: false, interactive: false }).addTo(map);

    /* a shape with a tooltip listens for focus, and Chromium then puts an
     * SVG path in the tab order: the items are reached from the list, so
     * their shapes are taken out (tabindex -1) */
    map.on('layeradd', (e) => {
      const el = e.layer.getElement && e.layer.getElement();
      if (el && el.classList && el.classList.contains('fm-item')) el.setAttribute('tabindex', '-1');
    });
    map.on('mousemove', (e) => { $('cursor').textContent = position(e.latlng); });
    map.on('zoomend', () => { for (const [key, layer] of state.layers) if (key.startsWith('movements/')) corridorWidth(layer); });

    if (canDraw()) {
      map.pm.setGlobalOptions({ allowSelfIntersection: false, snappable: true });
      map.pm.addControls({
        position: 'topleft', drawMarker: true, drawPolygon: true, drawPolyline: true, drawRectangle: true,
        drawCircle: false, drawCircleMarker: false, drawText: false, editMode: false, dragMode: false,
        cutPolygon: false, removalMode: false, rotateMode: false,
      });
      map.on('pm:create', (e) => onDrawn(e.layer, e.shape));
      /* while a drawing tool is on, the items take no clicks (no popup, no
       * button under the next click): a vertex lands where it is clicked */
      map.on('pm:globaldrawmodetoggled', (e) => {
        map.getContainer().classList.toggle('fm-drawing', !!e.enabled);
        if (e.enabled) map.closePopup();
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

  /* tiles as of a past time; ahead, today's record */
  function tq() { return state.asOf && !isAhead() ? '?t=' + encodeURIComponent(state.asOf) : ''; }

  function position(ll) {
    const lat = ll.lat, lon = L.Util.wrapNum(ll.lng, [-180, 180], true);
    const f = (v, p, n) => Math.abs(v).toFixed(5) + '°' + (v >= 0 ? p : n);
    let grid = '';
    try {
      const m = mgrs.forward([lon, lat], 5).match(/^(\d{1,2}[A-Z])([A-Z]{2})(\d+)$/);
      if (m) grid = m[1] + ' ' + m[2] + ' ' + m[3].slice(0, m[3].length / 2) + ' ' + m[3].slice(m[3].length / 2);
    } catch (e) { grid = 'outside MGRS'; }
    return f(lat, 'N', 'S') + ' ' + f(lon, 'E', 'W') + '  ·  MGRS ' + grid;
  }

  /* ---- items on the map and in the list ---------------------------------- */

  async function reload() {
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
    renderList();
    loadConflicts();
  }

  /* Open conflicts in red, when the server finds them (absent: no layer). */
  async function loadConflicts() {
    if (state.noConflicts) return;
    const t = state.asOf;
    /* a server that knows the conflicts of now only (400 for t=, asked
     * once): the conflicts of now are not shown as if they were of then */
    if (t && state.conflictsNowOnly) return conflictsNowOnly();
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
      groups.conflicts.addTo(map);
      state.layerControl.addOverlay(groups.conflicts, 'Conflicts');
    }
    groups.conflicts.clearLayers();
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
      }).bindTooltip(esc(words(p.kind || 'conflict') + ': ' + names), { sticky: true }).addTo(groups.conflicts);
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
    $('conflict-count').textContent = open.length;
    $('conflicts-box').hidden = false;
  }
  function conflictsNowOnly() {
    groups.conflicts.clearLayers();
    state.conflictLayers.clear();
    $('conflict-list').textContent = '';
    $('conflict-list').hidden = true;
    $('conflict-count').textContent = '–';
    $('conflicts-note').hidden = false;
    $('conflicts-box').hidden = false;
  }

  /* A list row reached with Tab and opened with Enter or Space. */
  function rowKeys(li, open) {
    li.tabIndex = 0;
    li.setAttribute('role', 'button');
    li.addEventListener('keydown', (ev) => {
      /* the arrows move along the list */
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        const next = ev.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
        if (next && next.tabIndex === 0) { ev.preventDefault(); next.focus(); }
        return;
      }
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      ev.preventDefault();
      open(true);
    });
  }

  /* Flies to a listed conflict and names it on the map. */
  function flyToConflict(id, li) {
    const layer = state.conflictLayers.get(id);
    if (!layer) return;
    for (const el of $('conflict-list').children) el.classList.toggle('sel', el === li);
    const b = layer.getBounds();
    if (!b.isValid()) return;
    map.flyToBounds(b, { maxZoom: 14, padding: [60, 60], duration: 0.8 });
    map.once('moveend', () => layer.openTooltip(b.getCenter()));
  }
  let conflictTimer = null;
  function scheduleConflicts() {
    if (conflictTimer || state.noConflicts) return;
    conflictTimer = setTimeout(() => { conflictTimer = null; loadConflicts(); }, 1000);
  }

  function keyOf(coll, id) { return coll + '/' + id; }

  function put(f, flash) {
    const key = keyOf(f.coll, f.id);
    const old = state.layers.get(key);
    if (old) old.remove();
    state.items.set(key, f);
    const layer = makeLayer(f);
    layer.fmKey = key;
    layer.on('click', () => select(key, false));
    layer.bindPopup(() => popup(key), { maxWidth: 360 });
    groups[f.coll].addLayer(layer);
    state.layers.set(key, layer);
    if (flash) state.flash = key;
  }

  function drop(key) {
    const old = state.layers.get(key);
    if (old) old.remove();
    state.layers.delete(key);
    state.items.delete(key);
  }

  /* the time the map shows: the slider's, or now */
  function viewTime() { return state.asOf ? Date.parse(state.asOf) : Date.now(); }
  function isAhead() { return !!state.asOf && Date.parse(state.asOf) > Date.now(); }

  /* Items take the class fm-item (no clicks while drawing) and stay out of
   * the tab order (the list reaches them). An item not yet in force at the
   * time shown is dotted and light; one whose window is over, faded. */
  function makeLayer(f) {
    const p = f.properties, c = colour(p.party);
    const draft = p.status === 'draft', disputed = p.status === 'disputed';
    const ph = FM.phase(p, viewTime()), ahead = ph === 'ahead', over = ph === 'over';
    const cls = 'fm-item' + (ahead ? ' fm-ahead' : over ? ' fm-over' : '');
    const dim = ahead ? 0.55 : over ? 0.35 : 1;
    let layer;
    if (f.coll === 'incidents') {
      const sev = Number(p.severity) || 1, size = 18 + sev * 3;
      const [lon, lat] = f.geometry.type === 'Point' ? f.geometry.coordinates : [0, 0];
      const icon = L.divIcon({
        className: cls, iconSize: [size, size],
        html: `<div class="inc-icon" style="width:${size}px;height:${size}px;background:${disputed ? '#c92a2a' : c};${draft || ahead || over ? 'opacity:' + (draft ? 0.6 : dim) + ';' : ''}">${sev}</div>`,
      });
      layer = L.marker([lat, lon], { icon, title: p.title || 'incident', keyboard: false });
    } else if (f.coll === 'movements') {
      /* a disputed movement in red, as disputed zones and incidents */
      const lc = disputed ? '#c92a2a' : c;
      const g = L.featureGroup();
      const route = L.geoJSON(f.geometry, { style: { className: cls, color: lc, weight: disputed ? 4 : 3, opacity: dim,
        dashArray: ahead ? '2 6' : draft ? '4 6' : p.status === 'in_progress' ? null : '10 6' } });
      const corridor = L.geoJSON(f.geometry, { style: { className: cls, color: lc, weight: 8, opacity: (disputed ? 0.3 : 0.18) * dim, lineCap: 'round' }, interactive: true });
      g.addLayer(corridor).addLayer(route);
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
      layer.bindTooltip(esc(p.title || 'zone') + (ahead ? ' (not yet in force)' : ''), { sticky: true });
    }
    layer.fmPhase = ph;
    return layer;
  }

  function corridorWidth(g) {
    if (!g.fmCorridor || !map) return;
    const lat = map.getCenter().lat;
    const mpp = 40075016.686 * Math.cos(lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
    const px = Math.max(6, Math.min(200, g.fmWidth / mpp));
    g.fmCorridor.setStyle({ weight: px });
  }

  function chip(status) { return `<span class="chip st-${esc(status)}">${esc(words(status))}</span>`; }
  function partyChip(party) {
    return `<span class="chip party" style="background:${esc(colour(party))}">${esc(party)}</span>`;
  }

  function popup(key) {
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
    row('changed', esc(utc(p.updated_at)) + ' by ' + esc(p.updated_by) + ' (v' + esc(p.version) + ')');
    const div = document.createElement('div');
    div.className = 'pop';
    div.innerHTML = `<h3>${esc(p.title || '(untitled)')}</h3><div>${partyChip(p.party)} ${chip(p.status)}</div>` +
      (p.description ? `<p>${esc(p.description)}</p>` : '') + `<table>${rows.join('')}</table>`;
    if (canEdit(f)) {
      const actions = document.createElement('div');
      actions.className = 'actions';
      const b = (label, fn, cls) => {
        const el = document.createElement('button');
        el.textContent = label;
        if (cls) el.className = cls;
        el.addEventListener('click', () => { map.closePopup(); fn(); });
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
        el.addEventListener('click', () => { map.closePopup(); ack(key, decision); });
        actions.appendChild(el);
      }
      div.appendChild(actions);
    }
    return div;
  }

  /* keyboard: the popup opened from a list row takes the focus, and
   * Escape gives it back to the row */
  function select(key, fly, keyboard) {
    state.selected = key;
    const layer = state.layers.get(key);
    if (!layer) return;
    if (fly) {
      if (layer.getLatLng) map.flyTo(layer.getLatLng(), Math.max(map.getZoom(), 12), { duration: 0.8 });
      else map.flyToBounds(layer.getBounds(), { maxZoom: 13, padding: [40, 40], duration: 0.8 });
      map.once('moveend', () => {
        if (!layer.openPopup) return;
        if (layer.getLatLng) layer.openPopup(); else layer.openPopup(layer.getBounds().getCenter());
        const pop = keyboard && document.querySelector('.leaflet-popup-content .pop');
        if (!pop) return;
        const first = pop.querySelector('button') || pop;
        if (first === pop) pop.tabIndex = -1;
        first.focus();
        pop.addEventListener('keydown', (ev) => {
          if (ev.key !== 'Escape') return;
          map.closePopup();
          const row = document.querySelector(`#list li[data-key="${key}"]`);
          if (row) row.focus();
        });
      });
    }
    renderList();
    if (keyboard) { const row = document.querySelector(`#list li[data-key="${key}"]`); if (row) row.focus(); }
  }

  /* ---- the list ------------------------------------------------------------ */

  function fillFilters() {
    const party = $('f-party');
    party.length = 1;
    for (const p of Object.values(state.parties)) party.add(new Option(p.name + ' (' + p.code + ')', p.code));
    fillStatuses();
    for (const id of ['f-kind', 'f-party', 'f-status']) $(id).onchange = () => { if (id === 'f-kind') fillStatuses(); renderList(); };
    $('f-text').oninput = renderList;
  }

  function fillStatuses() {
    const kind = $('f-kind').value, sel = $('f-status'), keep = sel.value;
    const list = kind ? FM.STATUSES[kind] : [...new Set(Object.values(FM.STATUSES).flat())];
    sel.length = 1;
    for (const s of list) if (s !== 'withdrawn') sel.add(new Option(words(s), s));
    sel.value = list.includes(keep) ? keep : '';
  }

  function renderList() {
    const kind = $('f-kind').value, party = $('f-party').value, status = $('f-status').value;
    const text = $('f-text').value.trim().toLowerCase();
    const rows = [...state.items.entries()].filter(([, f]) =>
      (!kind || f.coll === kind) && (!party || f.properties.party === party) &&
      (!status || f.properties.status === status) &&
      (!text || String(f.properties.title || '').toLowerCase().includes(text)));
    rows.sort((a, b) => String(b[1].properties.updated_at).localeCompare(String(a[1].properties.updated_at)));
    const ul = $('list');
    const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    ul.textContent = '';
    for (const [key, f] of rows.slice(0, 500)) {
      const p = f.properties;
      const li = document.createElement('li');
      li.dataset.key = key;
      if (key === state.selected) li.className = 'sel';
      if (key === state.flash) li.classList.add('flash');
      const ph = FM.phase(p, viewTime());
      if (ph !== 'in') li.classList.add(ph === 'ahead' ? 'ahead' : 'over');
      const when = ph === 'ahead' ? ` · <span class="when">not yet in force: from ${esc(utc(p.valid_from || p.occurred_at))}</span>`
        : ph === 'over' ? ` · <span class="when">ended ${esc(utc(p.valid_to))}</span>` : '';
      li.innerHTML = `<span class="ico ${f.coll}" style="border-color:${esc(colour(p.party))};background:${esc(colour(p.party))}33"></span>` +
        `<span class="t" title="${esc(p.title)}">${esc(p.title || '(untitled)')}</span><span>${chip(p.status)}</span>` +
        `<span class="m">${esc(KIND[f.coll])}${p.type && f.coll !== 'incidents' ? ' · ' + esc(words(p.type)) : ''}${p.severity ? ' · severity ' + esc(p.severity) : ''} · ${partyChip(p.party)} · ${esc(ago(p.updated_at))}${when}</span>`;
      li.addEventListener('click', () => select(key, true));
      rowKeys(li, () => select(key, true, true));
      ul.appendChild(li);
    }
    if (!rows.length) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = state.items.size ? 'Nothing matches these filters.' : state.asOf ? 'Nothing existed at that time.' : 'No items yet.';
      ul.appendChild(li);
    }
    state.flash = null;
    if (focused) { const row = ul.querySelector(`li[data-key="${focused}"]`); if (row) row.focus(); }
    $('count').textContent = rows.length + ' of ' + state.items.size + ' items' + (state.asOf ? ' · as of ' + utc(state.asOf) : '');
  }

  /* ---- live updates -------------------------------------------------------- */

  function onEvent(e) {
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

  /* One event onto the map; an older version never replaces a newer one. */
  function apply(e, flash) {
    const key = keyOf(e.collection, e.item);
    const f = e.after;
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

  /* ---- the time slider ------------------------------------------------------ */

  /* Steps that fit the distance from now (FM.timeline: 5 min near now, days
   * far away), 30 days back and 14 days ahead; position 0 is now. Back: the
   * record as it was then. Ahead: today's record at that time, so what is
   * planned shows, and what is not yet in force is drawn dotted. */
  const slider = $('time-slider');
  slider.min = FM.timeline.min;
  slider.max = FM.timeline.max;
  slider.value = 0;
  $('time-track').style.setProperty('--now', String(-FM.timeline.min / (FM.timeline.max - FM.timeline.min)));
  function sliderTime() { return FM.timeline.at(Number(slider.value)); }
  function timeLabel(t) {
    if (!t) return 'now (live)';
    const d = FM.timeline.offsetAt(Number(slider.value)) || Date.parse(t) - Date.now(); /* the step, not the seconds since */
    return d > 0 ? utc(t) + ' · in ' + FM.span(d) : 'as of ' + utc(t) + ' · ' + FM.span(d) + ' ago';
  }
  slider.addEventListener('input', () => { $('time-label').textContent = timeLabel(sliderTime()); });
  slider.addEventListener('change', () => setAsOf(sliderTime()));
  $('time-now').addEventListener('click', () => { slider.value = 0; setAsOf(null); });

  function setAsOf(t) {
    state.asOf = t;
    state.missed = 0;
    const ahead = isAhead();
    $('asof').classList.toggle('past', !!t && !ahead);
    $('asof').classList.toggle('ahead', ahead);
    $('time-label').textContent = timeLabel(t);
    $('time-now').hidden = !t;
    $('banner').hidden = !t;
    $('banner').textContent = !t ? '' : ahead ? `Planned: ${utc(t)} · read only · dotted: not yet in force`
      : `Situation as of ${utc(t)} · read only`;
    if (baseLayer) baseLayer.setUrl('/tiles/basemap/{z}/{x}/{y}.png' + tq());
    if (allLayer) allLayer.setUrl('/tiles/all/{z}/{x}/{y}.png' + tq());
    if (map.pm && canDraw()) {
      if (t) { map.pm.disableDraw(); map.pm.removeControls(); } else map.pm.addControls();
    }
    if (!state.helpText) state.helpText = $('help').textContent;
    $('help').textContent = t ? (ahead ? 'Looking ahead' : 'Looking back') + ': read only. Drag the slider to the yellow mark (now), or press Back to now, to edit.' : state.helpText;
    reload();
  }

  /* ---- forms ------------------------------------------------------------------ */

  const isoLocal = (iso) => (iso ? iso.slice(0, 16) : '');
  const fromLocal = (v) => (v ? v + ':00Z' : undefined);
  const hoursFromNow = (h) => new Date(Date.now() + h * 3600e3).toISOString().slice(0, 16);

  function fieldsFor(coll) {
    const common = [
      { name: 'title', label: 'Title', wide: true, required: true, maxlength: 200 },
    ];
    const status = { name: 'status', label: 'Status', options: FM.STATUSES[coll].filter((s) => s !== 'withdrawn') };
    const desc = { name: 'description', label: 'Description', wide: true, textarea: true };
    if (coll === 'zones') return [...common,
      { name: 'type', label: 'Zone type', options: FM.ZONE_TYPES, required: true }, status,
      { name: 'valid_from', label: 'Valid from (UTC)', time: true, required: true },
      { name: 'valid_to', label: 'Valid to (UTC)', time: true, required: true },
      { name: 'altitude_floor_m', label: 'Altitude floor (m AMSL)', number: true, min: -1000, max: 100000 },
      { name: 'altitude_ceiling_m', label: 'Altitude ceiling (m AMSL)', number: true, min: -1000, max: 100000 }, desc];
    if (coll === 'incidents') return [...common,
      { name: 'category', label: 'Category', options: FM.CATEGORIES, required: true },
      { name: 'severity', label: 'Severity (1 low – 5 grave)', options: ['1', '2', '3', '4', '5'], required: true },
      { name: 'occurred_at', label: 'Occurred at (UTC)', time: true, required: true }, status, desc];
    return [...common,
      { name: 'type', label: 'Movement', options: ['ground', 'air', 'sea', 'other'] }, status,
      { name: 'valid_from', label: 'Window from (UTC)', time: true, required: true },
      { name: 'valid_to', label: 'Window to (UTC)', time: true, required: true },
      { name: 'corridor_width_m', label: 'Corridor width (m)', number: true, min: 1, max: 100000, required: true },
      { name: 'altitude_ceiling_m', label: 'Altitude ceiling (m AMSL, air only)', number: true, min: -1000, max: 100000 }, desc];
  }

  function defaults(coll) {
    if (coll === 'zones') return { type: 'restricted', status: 'draft', valid_from: hoursFromNow(0), valid_to: hoursFromNow(24), altitude_floor_m: 0, altitude_ceiling_m: 3000 };
    if (coll === 'incidents') return { category: 'other', severity: '3', status: 'reported', occurred_at: hoursFromNow(0) };
    return { type: 'ground', status: 'notified', valid_from: hoursFromNow(1), valid_to: hoursFromNow(5), corridor_width_m: 500 };
  }

  /* Checks a form's values; returns {field: message}. */
  function validate(coll, v) {
    const err = {};
    if (!v.title || !v.title.trim()) err.title = 'Give it a title.';
    for (const f of fieldsFor(coll)) {
      if (f.required && (v[f.name] === undefined || v[f.name] === '')) err[f.name] = err[f.name] || 'Required.';
      if (f.number && v[f.name] !== undefined && v[f.name] !== '') {
        const n = Number(v[f.name]);
        if (!Number.isFinite(n)) err[f.name] = 'A number.';
        else if (n < f.min || n > f.max) err[f.name] = `From ${f.min} to ${f.max}.`;
      }
    }
    if (v.valid_from && v.valid_to && v.valid_to <= v.valid_from) err.valid_to = 'Must be after the start.';
    if (v.altitude_floor_m !== '' && v.altitude_ceiling_m !== '' && v.altitude_floor_m !== undefined && v.altitude_ceiling_m !== undefined &&
        Number(v.altitude_ceiling_m) <= Number(v.altitude_floor_m)) err.altitude_ceiling_m = 'Must be above the floor.';
    if (v.occurred_at && v.occurred_at > hoursFromNow(0.25)) err.occurred_at = 'Cannot be in the future.';
    return err;
  }

  /* The form's values as GeoJSON properties. A time the person did not
   * touch keeps its seconds (the input shows minutes only). */
  function toProps(coll, v, orig) {
    const p = {};
    for (const f of fieldsFor(coll)) {
      let x = v[f.name];
      if (x === undefined || x === '') continue;
      if (f.time) x = orig && /Z$/.test(orig[f.name] || '') && isoLocal(orig[f.name]) === x ? orig[f.name] : fromLocal(x);
      else if (f.number || f.name === 'severity') x = Number(x);
      p[f.name] = x;
    }
    return p;
  }

  /* Opens the form; resolves with the properties, or null when cancelled.
   * submit(props) returns null on success or a problem to show. */
  function form(title, coll, values, submit) {
    const fields = fieldsFor(coll);
    const html = fields.map((f) => {
      const v = values[f.name] === undefined ? '' : values[f.name];
      let input;
      if (f.options) input = `<select name="${f.name}">${(f.required ? '' : '<option value=""></option>') + f.options.map((o) => `<option value="${esc(o)}"${String(v) === o ? ' selected' : ''}>${esc(words(o))}</option>`).join('')}</select>`;
      else if (f.textarea) input = `<textarea name="${f.name}" rows="3">${esc(v)}</textarea>`;
      else input = `<input name="${f.name}" ${f.time ? 'type="datetime-local"' : f.number ? 'type="number" step="any"' : 'type="text"'} value="${esc(f.time ? isoLocal(String(v)) || v : v)}"${f.maxlength ? ` maxlength="${f.maxlength}"` : ''}>`;
      return `<label class="${f.wide ? 'wide' : ''}" data-field="${f.name}">${esc(f.label)}${f.required ? ' *' : ''}${input}<span class="msg"></span></label>`;
    }).join('');
    return dialog(title, `<form class="form" novalidate>${html}</form><div class="problem" hidden></div>
      <div class="buttons"><button type="button" data-act="cancel">Cancel</button><button type="button" class="primary" data-act="save">Save</button></div>`,
    (body, close) => {
      const formEl = body.querySelector('form');
      const read = () => Object.fromEntries([...new FormData(formEl).entries()].map(([k, x]) => [k, String(x)]));
      const show = (errs) => {
        for (const label of formEl.querySelectorAll('label')) {
          const m = errs[label.dataset.field] || '';
          label.querySelector('.msg').textContent = m;
          label.querySelector('input,select,textarea').classList.toggle('invalid', !!m);
        }
      };
      const box = body.querySelector('.problem');
      const clearProblem = () => { box.hidden = true; box.textContent = ''; };
      /* a changed field loses its message, and the server's last answer
       * goes: it was about the values before this change */
      const changed = (ev) => {
        const label = ev.target.closest('label[data-field]');
        if (label) {
          label.querySelector('.msg').textContent = '';
          ev.target.classList.remove('invalid');
        }
        clearProblem();
      };
      formEl.addEventListener('input', changed);
      formEl.addEventListener('change', changed);
      const save = async () => {
        const v = read();
        const errs = validate(coll, v);
        clearProblem();
        show(errs);
        if (Object.keys(errs).length) return;
        const btn = body.querySelector('[data-act=save]');
        btn.disabled = true;
        const problem = await submit(toProps(coll, v, values));
        btn.disabled = false;
        if (!problem) return close(true);
        box.hidden = false;
        box.textContent = problem.message;
        const ptr = problem.problem && problem.problem.pointer;
        const m = ptr && ptr.match(/^\/properties\/(\w+)/);
        show(m ? { [m[1]]: problem.message } : {});
      };
      body.querySelector('[data-act=save]').addEventListener('click', save);
      formEl.addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
      body.querySelector('[data-act=cancel]').addEventListener('click', () => close(false));
      const first = formEl.querySelector('input,select');
      if (first) first.focus();
    });
  }

  /* A modal of its own (dialogs stack: a conflict opens over its form);
   * setup(body, close) wires it; resolves with close's argument. */
  function dialog(title, html, setup) {
    return new Promise((resolve) => {
      const modal = document.createElement('div');
      modal.className = 'modal';
      modal.innerHTML = '<div class="dialog" role="dialog" aria-modal="true"><h2></h2><div class="dbody"></div></div>';
      modal.querySelector('h2').textContent = title;
      const body = modal.querySelector('.dbody');
      body.innerHTML = html;
      document.body.appendChild(modal);
      const close = (result) => {
        modal.remove();
        document.removeEventListener('keydown', onKey);
        resolve(result);
      };
      const onKey = (ev) => { if (ev.key === 'Escape' && modal === [...document.querySelectorAll('.modal')].pop()) close(false); };
      document.addEventListener('keydown', onKey);
      setup(body, close);
    });
  }

  /* ---- creating ------------------------------------------------------------- */

  async function onDrawn(layer, shape) {
    /* one drawing, one form: the tool goes off (the marker tool would
     * otherwise stay on, and the next click start another report) */
    map.pm.disableDraw();
    const coll = shape === 'Marker' ? 'incidents' : shape === 'Line' ? 'movements' : 'zones';
    const geometry = layer.toGeoJSON().geometry;
    const what = { zones: 'New zone', incidents: 'Report an incident', movements: 'Notify a movement' }[coll];
    const ok = await form(what, coll, defaults(coll), async (props) => {
      try {
        const { json } = await api('POST', '/collections/' + coll + '/items', { type: 'Feature', geometry, properties: props },
          { 'Content-Type': 'application/geo+json' });
        put(Object.assign(json, { coll }), true);
        renderList();
        return null;
      } catch (e) { return e; }
    });
    layer.remove();
    if (ok) toast(what.replace(/^New /, 'The ').replace(/^Report an/, 'The').replace(/^Notify a/, 'The') + ' is saved.');
  }

  /* ---- editing with If-Match --------------------------------------------------- */

  async function editDetails(key) {
    const f = state.items.get(key);
    if (!f) return;
    const coll = f.coll, id = f.id;
    let version = f.properties.version;
    const values = Object.assign({}, f.properties);
    await form('Edit “' + (f.properties.title || '') + '”', coll, values, async function submit(props) {
      /* only what this person changed: a colleague's change to another
       * field survives "save mine" after a conflict */
      const changed = {};
      for (const k of Object.keys(props)) if (JSON.stringify(props[k]) !== JSON.stringify(f.properties[k])) changed[k] = props[k];
      for (const k of Object.keys(f.properties)) if (!(k in props) && fieldsFor(coll).some((x) => x.name === k)) changed[k] = null;
      if (!Object.keys(changed).length) return null;
      try {
        const { json } = await api('PATCH', `/collections/${coll}/items/${id}`, { properties: changed },
          { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + version + '"' });
        put(Object.assign(json, { coll }), true);
        renderList();
        return null;
      } catch (e) {
        if (e.status !== 412) return e;
        const choice = await conflict(coll, id, props, f.properties);
        if (choice.action === 'mine') { version = choice.version; return submit(props); }
        if (choice.action === 'reload') return null;
        return { message: 'Not saved: someone changed this item. Reload it to see their version.' };
      }
    });
  }

  /* The 412 dialog: what I meant to save against what is on the server
   * now. Resolves {action: 'reload'|'mine'|'cancel', version}. */
  async function conflict(coll, id, mine, base) {
    let theirs;
    try {
      theirs = (await api('GET', `/collections/${coll}/items/${id}`)).json;
    } catch (e) {
      await dialog('This item is gone', `<p>Someone withdrew this item while you were editing. Your changes were not saved.</p><div class="buttons"><button class="primary" data-act="ok">OK</button></div>`,
        (body, close) => body.querySelector('[data-act=ok]').addEventListener('click', () => close()));
      drop(`${coll}/${id}`);
      renderList();
      return { action: 'reload' };
    }
    const tp = theirs.properties;
    const names = [...new Set([...Object.keys(mine), 'title', 'status'])];
    const labels = Object.fromEntries(fieldsFor(coll).map((f) => [f.name, f.label.replace(/ \*$/, '')]));
    const rows = names.map((n) => {
      const a = mine[n], b = tp[n], was = base[n];
      const diff = JSON.stringify(a) !== JSON.stringify(b);
      const show = (x) => esc(/_(at|from|to)$/.test(n) ? utc(x) : x);
      return `<tr class="${diff ? 'diff' : ''}"><td>${esc(labels[n] || words(n))}</td><td>${show(was)}</td><td>${show(a)}</td><td>${show(b)}</td></tr>`;
    }).join('');
    return dialog('Someone changed this item', `<p><b>${esc(tp.updated_by)}</b> saved version ${esc(tp.version)} at ${esc(utc(tp.updated_at))}, after you opened version ${esc(base.version)}. Nothing was overwritten.</p>
      <table class="compare"><tr><th>field</th><th>when you opened it</th><th>your edit</th><th>now on the server</th></tr>${rows}</table>
      <div class="buttons"><button data-act="cancel">Keep editing</button><button data-act="reload">Reload theirs (drop my edit)</button><button class="primary" data-act="mine">Save my changes onto version ${esc(tp.version)}</button></div>`,
    (body, close) => {
      body.querySelector('[data-act=cancel]').addEventListener('click', () => close({ action: 'cancel' }));
      body.querySelector('[data-act=reload]').addEventListener('click', () => {
        put(Object.assign(theirs, { coll }), true);
        renderList();
        close({ action: 'reload' });
      });
      body.querySelector('[data-act=mine]').addEventListener('click', () => close({ action: 'mine', version: tp.version }));
    });
  }

  function editShape(key) {
    const f = state.items.get(key), layer = state.layers.get(key);
    if (!f || !layer) return;
    const target = f.coll === 'movements' ? layer.getLayers()[1].getLayers()[0]
      : f.coll === 'zones' ? layer.getLayers()[0] : layer;
    state.editing = { key, version: f.properties.version };
    if (target.pm) target.pm.enable({ allowSelfIntersection: false, draggable: f.coll === 'incidents' });
    if (f.coll === 'incidents') target.dragging && target.dragging.enable();
    const bar = $('banner');
    bar.hidden = false;
    bar.innerHTML = `Editing the shape of “${esc(f.properties.title)}” <button class="small" id="shape-save">Save shape</button> <button class="small" id="shape-cancel">Cancel</button>`;
    const finish = () => {
      if (target.pm) target.pm.disable();
      if (target.dragging) target.dragging.disable();
      state.editing = null;
      bar.hidden = true;
      bar.textContent = '';
    };
    $('shape-cancel').onclick = () => { finish(); put(state.items.get(key), false); };
    $('shape-save').onclick = async () => {
      const geometry = target.toGeoJSON().geometry;
      const version = state.editing.version;
      finish();
      try {
        const { json } = await api('PATCH', `/collections/${f.coll}/items/${f.id}`, { geometry },
          { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + version + '"' });
        put(Object.assign(json, { coll: f.coll }), true);
        renderList();
        toast('Shape saved.');
      } catch (e) {
        if (e.status === 412) {
          const choice = await conflict(f.coll, f.id, { geometry: 'your new shape' }, Object.assign({}, f.properties, { geometry: 'as you opened it' }));
          if (choice.action === 'mine') {
            try {
              const { json } = await api('PATCH', `/collections/${f.coll}/items/${f.id}`, { geometry },
                { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + choice.version + '"' });
              put(Object.assign(json, { coll: f.coll }), true);
              renderList();
            } catch (e2) { toast('Not saved: ' + e2.message); }
          } else {
            put(state.items.get(key), false);
          }
        } else {
          toast('Not saved: ' + e.message);
          put(state.items.get(key), false);
        }
      }
    };
  }

  /* Acknowledge or dispute the version on screen (If-Match: a later edit
   * needs its own answer). */
  async function ack(key, decision) {
    const f = state.items.get(key);
    if (!f) return;
    let comment = null;
    if (decision === 'dispute') {
      comment = await dialog('Dispute “' + (f.properties.title || '') + '”', `<form class="form" novalidate><label class="wide" data-field="comment">Why? (the other side sees this) *<textarea name="comment" rows="3"></textarea><span class="msg"></span></label></form>
        <div class="buttons"><button data-act="cancel">Cancel</button><button class="primary" data-act="ok">Dispute</button></div>`, (body, close) => {
        body.querySelector('[data-act=cancel]').addEventListener('click', () => close(null));
        body.querySelector('[data-act=ok]').addEventListener('click', () => {
          const v = body.querySelector('textarea').value.trim();
          if (!v) { body.querySelector('.msg').textContent = 'Say what is wrong.'; return; }
          close(v);
        });
        body.querySelector('textarea').focus();
      });
      if (comment === null || comment === false) return;
    }
    try {
      const { json } = await api('POST', `/collections/${f.coll}/items/${f.id}/ack`, { decision, comment },
        { 'If-Match': '"' + f.properties.version + '"' });
      if (json && json.type === 'Feature') put(Object.assign(json, { coll: f.coll }), true);
      renderList();
      toast(decision === 'ack' ? 'Acknowledged version ' + f.properties.version + '.' : 'Disputed.');
    } catch (e) {
      toast(e.status === 412 ? 'It changed meanwhile: look at the new version, then answer again.' : 'Not sent: ' + e.message);
      if (e.status === 412) reload();
    }
  }

  async function withdraw(key) {
    const f = state.items.get(key);
    if (!f) return;
    const ok = await dialog('Withdraw “' + (f.properties.title || '') + '”?',
      `<p>It disappears from the map for everybody and stays in the history.</p><div class="problem" hidden></div><div class="buttons"><button data-act="cancel">Cancel</button><button class="primary" data-act="ok">Withdraw</button></div>`,
      (body, close) => {
        body.querySelector('[data-act=cancel]').addEventListener('click', () => close(false));
        body.querySelector('[data-act=ok]').addEventListener('click', async () => {
          try {
            await api('DELETE', `/collections/${f.coll}/items/${f.id}`, undefined, { 'If-Match': '"' + f.properties.version + '"' });
            close(true);
          } catch (e) {
            const box = body.querySelector('.problem');
            box.hidden = false;
            box.textContent = e.status === 412 ? 'Someone changed this item meanwhile: look at their version first (it is on the map now).' : e.message;
            if (e.status === 412) reload();
          }
        });
      });
    if (ok) { drop(key); renderList(); toast('Withdrawn.'); }
  }

  let toastTimer = null;
  function toast(text) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

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

  window.fmState = state; /* for tests and the curious */
  start();
})();
