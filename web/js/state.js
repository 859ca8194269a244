/* state.js - the viewer's state, declared here and nowhere else: who is
 * logged in, the items and their layers, the time shown, the map and its
 * groups (set by map.js); other modules keep at most a timer of their own.
 * And the questions every module asks of it. */
import * as FM from '../common.js';

export const state = {
  me: null,
  parties: {},
  items: new Map(), /* "zones/3" -> Feature (with .coll) */
  layers: new Map(), /* "zones/3" -> Leaflet layer */
  conflictLayers: new Map(), /* open conflict id -> its Leaflet layer */
  namedConflict: null, /* the conflict last flown to, whose name is shown on the map */
  asOf: null, /* ISO time when looking at the past or ahead, else null (live) */
  missed: 0, /* live events while looking at the past */
  stream: null,
  selected: null,
  editing: null, /* {key, layer, version} while a shape is being edited */
  loading: false, /* a snapshot is being fetched: events wait in queue */
  queue: [],
  map: null, /* the Leaflet map (map.js) */
  groups: null, /* its feature groups: zones, movements, incidents, conflicts */
  layerControl: null,
  baseLayer: null, /* the server's basemap tiles, when it has them */
  allLayer: null, /* the server's rendering of all layers */
};

export function canEdit(f) {
  return !state.asOf && state.me && state.me.role !== 'viewer' && f.properties.party === state.me.party;
}
/* another party's item that waits for an answer */
// A party's answer to another's item. The supervisor does not answer a
// disputed item: it rules on it (Uphold/Overrule, thread.js).
export function canAck(f) {
  return !state.asOf && state.me && (state.me.role === 'liaison' || state.me.role === 'supervisor') &&
    f.properties.party !== state.me.party && FM.OPEN_STATUSES.has(f.properties.status) &&
    !(state.me.role === 'supervisor' && f.properties.status === 'disputed');
}
export function canDraw() {
  return state.me && (state.me.role === 'liaison' || state.me.role === 'admin' || state.me.role === 'supervisor');
}
export function colour(party) {
  return (state.parties[party] && state.parties[party].colour) || '#495057';
}

/* tiles as of a past time; ahead, today's record */
export function tq() { return state.asOf && !isAhead() ? '?t=' + encodeURIComponent(state.asOf) : ''; }

export function keyOf(coll, id) { return coll + '/' + id; }

/* the time the map shows: the slider's, or now */
export function viewTime() { return state.asOf ? Date.parse(state.asOf) : Date.now(); }
export function isAhead() { return !!state.asOf && Date.parse(state.asOf) > Date.now(); }
