/* reasons.js - why a disputed item is disputed, for the lists (the
 * viewer's side list, the wall's disputes): the latest dispute of each item
 * (who, when, which version, the reason). Learned from the live 'dispute'
 * records as they come, and for an item the page has not seen disputed
 * live, once from the item (GET .../items/{id}: properties.dispute), a few
 * at a time. Shared by the viewer and the wall; imports only common.js. */
import * as FM from '../common.js';

const known = new Map(); /* "movements/7" -> {reason, party, by, at, version} */
const asked = new Set(); /* keys asked for since the last clear */
const waiting = []; /* keys to ask for, in order */
let running = 0, listener = null;
const PARALLEL = 4, MAX_ASKED = 500;

/* fn() is called (at most once per burst) when a reason is learned */
export function onLearn(fn) { listener = fn; }

/* Forget everything (a new snapshot: what was missed is asked again). */
export function clearReasons() { known.clear(); asked.clear(); waiting.length = 0; }

let learnTimer = null;
function learned() {
  if (!listener || learnTimer) return;
  learnTimer = setTimeout(() => { learnTimer = null; listener(); }, 50);
}

/* A live record: a dispute tells its reason at once. */
export function reasonEvent(e) {
  if (e.action !== 'dispute' || !e.after) return;
  const a = e.after;
  known.set(e.collection + '/' + e.item, { reason: a.comment || '', party: a.party || e.party, by: e.user, at: e.at, version: a.version ?? e.version });
  learned();
}

/* The latest dispute of Feature f (with .coll), or null while it is being
 * asked for; only for a disputed item. */
export function reasonOf(f) {
  if (!f || f.properties.status !== 'disputed') return null;
  const key = f.coll + '/' + f.id;
  const k = known.get(key);
  if (k) return k;
  if (!asked.has(key) && asked.size < MAX_ASKED) {
    asked.add(key);
    waiting.push(f);
    pump();
  }
  return null;
}

function pump() {
  while (running < PARALLEL && waiting.length) {
    const f = waiting.shift(), key = f.coll + '/' + f.id;
    running++;
    FM.api('GET', `/collections/${f.coll}/items/${f.id}`).then(({ json }) => {
      const d = json && json.properties && json.properties.dispute;
      if (d && !known.has(key)) { known.set(key, d); learned(); }
    }).catch((e) => { if (!e.status || e.status >= 500) asked.delete(key); /* asked again later */ }).finally(() => { running--; pump(); });
  }
}
