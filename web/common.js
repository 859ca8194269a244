/* common.js - what the viewer (app.js) and the wall (wall.js) share: the
 * HTTP helpers, the live event stream with reconnection, item metadata and
 * formatting. No framework; one global, FM. */
'use strict';

window.FM = (function () {
  const COLLS = ['zones', 'incidents', 'movements'];
  const KIND = { zones: 'zone', incidents: 'incident', movements: 'movement' };
  const STATUSES = {
    zones: ['draft', 'proposed', 'active', 'expired', 'disputed', 'withdrawn'],
    incidents: ['draft', 'reported', 'acknowledged', 'under_review', 'resolved', 'disputed', 'withdrawn'],
    movements: ['draft', 'notified', 'acknowledged', 'in_progress', 'completed', 'cancelled', 'disputed', 'withdrawn'],
  };
  const ZONE_TYPES = ['restricted', 'no_fly', 'buffer', 'humanitarian_corridor', 'protected_site', 'demilitarised', 'safe_area', 'other'];
  const CATEGORIES = ['shelling', 'airspace', 'ground_incursion', 'small_arms', 'explosion', 'civilian_harm', 'infrastructure', 'other'];
  /* items that wait for the other side: not yet acknowledged, or disputed */
  const OPEN_STATUSES = new Set(['proposed', 'reported', 'notified', 'disputed']);
  const AREA = [[32.6, 35.6], [33.4, 36.2]]; /* the area of interest (lat, lon) */

  class HttpError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem;
    }
  }

  /* fetch as JSON; throws HttpError with the problem+json for 4xx/5xx */
  async function api(method, path, body, headers) {
    const h = Object.assign({ Accept: 'application/json' }, headers || {});
    if (method !== 'GET') h['X-Requested-With'] = 'fusionmap';
    if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    const text = await res.text();
    if (text) { try { json = JSON.parse(text); } catch (e) { json = null; } }
    if (!res.ok) throw new HttpError(res.status, json);
    return { json, etag: res.headers.get('ETag'), status: res.status };
  }

  /* Every feature of a collection (follows next links). t: as-of (ISO) or null */
  async function features(coll, t) {
    let url = '/collections/' + coll + '/items?limit=1000' + (t ? '&t=' + encodeURIComponent(t) : '');
    const out = [];
    for (let pages = 0; url && pages < 50; pages++) {
      const { json } = await api('GET', url);
      out.push(...(json.features || []));
      const next = (json.links || []).find((l) => l.rel === 'next');
      url = next && json.features && json.features.length ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
    }
    return out;
  }

  /* The live stream. EventSource reconnects by itself (Last-Event-ID) after
   * a network drop; after an answer it will not retry (401, 503, a server
   * restarting) it is CLOSED, so we start a new one with backoff, from the
   * last id we saw. handlers: {event(e), reset(), state(s), ended()} */
  function direct(handlers, since) {
    let es = null, lastId = since, backoff = 1000, timer = null, stopped = false;
    function setState(s) { if (handlers.state) handlers.state(s); }
    function open() {
      if (stopped) return;
      const url = '/events' + (lastId !== null && lastId !== undefined ? '?since=' + encodeURIComponent(lastId) : '');
      es = new EventSource(url);
      es.onopen = () => { backoff = 1000; setState('live'); };
      es.onmessage = (m) => {
        if (m.lastEventId) lastId = m.lastEventId;
        let e;
        try { e = JSON.parse(m.data); } catch (err) { return; }
        handlers.event(e);
      };
      /* "position" only moves our place in the log (past events we may not see) */
      es.addEventListener('position', (m) => { if (m.lastEventId) lastId = m.lastEventId; });
      es.addEventListener('reset', (m) => {
        if (m.lastEventId) lastId = m.lastEventId;
        handlers.reset(lastId);
      });
      es.addEventListener('bye', () => {
        close();
        if (handlers.ended) handlers.ended();
      });
      es.onerror = () => {
        setState('reconnecting');
        if (es.readyState === EventSource.CLOSED) {
          close();
          retry();
        }
      };
    }
    function retry() {
      if (stopped || timer) return;
      timer = setTimeout(async () => {
        timer = null;
        try {
          await api('GET', '/me');
        } catch (e) {
          if (e.status === 401) { if (handlers.ended) handlers.ended(); return; }
          backoff = Math.min(backoff * 2, 15000);
          retry();
          return;
        }
        open();
      }, backoff);
    }
    function close() {
      if (es) { es.onerror = es.onmessage = es.onopen = null; es.close(); es = null; }
    }
    open();
    return { stop() { stopped = true; close(); if (timer) clearTimeout(timer); } };
  }

  /* One stream for all the tabs of this browser: without HTTP/2 a browser
   * opens at most 6 connections to a server, so 7 tabs with a stream each
   * would starve every request. One tab (the holder of a Web Lock) runs the
   * EventSource and passes what it gets to the others on a
   * BroadcastChannel; when it closes, another tab takes over from the last
   * id it saw. Every tab drops an event it has already seen. Without Web
   * Locks (not a secure context) each tab has its own stream. */
  function stream(handlers) {
    let lastSeq = -1, stopped = false, release = null, leader = null, state = 'connecting';
    const local = {
      event(e) { if (e.seq <= lastSeq) return; lastSeq = e.seq; handlers.event(e); },
      reset(id) { lastSeq = Number(id) || lastSeq; handlers.reset(); },
      state(s) { state = s; if (handlers.state) handlers.state(s); },
      ended() { if (handlers.ended) handlers.ended(); },
    };
    if (!(navigator.locks && window.BroadcastChannel)) {
      leader = direct(local, null);
      return { stop() { stopped = true; leader.stop(); } };
    }
    const bc = new BroadcastChannel('fm-events');
    bc.onmessage = (m) => {
      const d = m.data || {};
      if (leader) { if (d.type === 'hello') bc.postMessage({ type: 'state', state }); return; }
      if (d.type === 'event') local.event(d.e);
      else if (d.type === 'reset') local.reset(d.id);
      else if (d.type === 'state') local.state(d.state);
      else if (d.type === 'ended') local.ended();
    };
    bc.postMessage({ type: 'hello' });
    navigator.locks.request('fm-events-leader', () => new Promise((resolve) => {
      release = resolve;
      if (stopped) return resolve();
      leader = direct({
        event(e) { bc.postMessage({ type: 'event', e }); local.event(e); },
        reset(id) { bc.postMessage({ type: 'reset', id }); local.reset(id); },
        state(s) { bc.postMessage({ type: 'state', state: s }); local.state(s); },
        ended() { bc.postMessage({ type: 'ended' }); local.ended(); },
      }, lastSeq >= 0 ? lastSeq : null);
    }));
    return {
      stop() {
        stopped = true;
        if (leader) leader.stop();
        leader = null;
        bc.close();
        if (release) release();
      },
    };
  }

  function esc(s) {
    return String(s === undefined || s === null ? '' : s).replace(/[&<>"']/g, (c) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }
  function words(s) { return String(s || '').replace(/_/g, ' '); }
  function utc(iso) {
    if (!iso) return '';
    return iso.replace('T', ' ').replace(/:\d\dZ$/, 'Z').replace(/Z$/, ' UTC');
  }
  function ago(iso) {
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (isNaN(s)) return '';
    if (s < 60) return 'just now';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }
  /* The titles of a conflict's two items, as `items` ("zones/3" -> Feature) knows them. */
  function conflictNames(p, items) {
    return (p.items || []).map((it) => { const g = items.get(it.collection + '/' + it.id); return g ? g.properties.title : KIND[it.collection] + ' ' + it.id; });
  }
  function describe(e) {
    const f = e.after || e.before;
    const title = f && f.properties && f.properties.title ? '“' + f.properties.title + '”' : '#' + e.item;
    const verb = { create: 'created', update: 'changed', withdraw: 'withdrew', ack: 'acknowledged', dispute: 'disputed' }[e.action] || words(e.action);
    return { who: e.user + ' (' + e.party + ')', verb, what: (KIND[e.collection] || e.collection || '') + ' ' + title };
  }

  return { COLLS, KIND, STATUSES, ZONE_TYPES, CATEGORIES, OPEN_STATUSES, AREA, HttpError, api, features, stream, esc, words, utc, ago, conflictNames, describe };
})();
