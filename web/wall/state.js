/* state.js - what the wall's modules share: the items and their layers,
 * the ticker's lines, the parties, and the few flags of the connection.
 * One object, so every module sees the same values. */
export const TICKER_MAX = 12, LIST_MAX = 300, PAGE_MS = 6000, IDLE_MS = 30000;
export const TOKEN_KEY = 'fm_wall_token';
export const $ = (id) => document.getElementById(id);

export const items = new Map(); /* "zones/3" -> Feature */
export const layers = new Map(); /* "zones/3" -> layer */
export const ticker = []; /* {seq, at, when, text, who}: newest first, at most TICKER_MAX */
export const cell = []; /* the cell's messages to all, as ticker lines: newest first, at most CELL_MAX */
export const CELL_MAX = 3;
export const parties = {};
export const wall = {
  map: null, group: null, conflictLayer: null, stream: null,
  lastUpdate: null, downSince: null, conflictsAvailable: true,
  backfilled: false, head: 0, loading: false, needReload: false,
  conflictsShown: [],
};
export function colour(p) { return (parties[p] && parties[p].colour) || '#adb5bd'; }
