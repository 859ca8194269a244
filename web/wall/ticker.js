/* ticker.js - the line of what happened, in words (titles and party
 * names, never ids), newest first and bounded, and before it the cell's
 * latest message to all parties (its own place, so a busy map never
 * pushes it out); after a reload both are filled from the event log up to
 * the head the stream names on connect. */
import * as FM from '../common.js';
import { $, items, parties, ticker, cell, wall, TICKER_MAX, CELL_MAX } from './state.js';

const { api, esc } = FM;

const li = (t, i) => `<li class="${i === 0 && Date.now() - t.when < 3000 ? 'new' : ''}"><span class="at">${esc(t.at)}</span>` +
  (t.who ? `<b>${esc(t.who)}</b> ` : '') + `<span dir="auto">${esc(t.text)}</span></li>`;
export function renderTicker() {
  $('ticker').innerHTML = ticker.map(li).join('');
  $('cell').innerHTML = cell.map(li).join('') || '<li class="none">No message yet</li>';
}

/* adds lines (newest first, each record once), bounded; onDirty schedules the redraw */
export function addTicker(lines, onDirty) {
  for (const l of lines) {
    const to = l.message ? cell : ticker;
    if (!to.some((t) => t.seq === l.seq)) to.push(l);
  }
  for (const [to, max] of [[ticker, TICKER_MAX], [cell, CELL_MAX]]) {
    to.sort((a, b) => b.seq - a.seq);
    if (to.length > max) to.length = max;
  }
  onDirty();
}

export function line(e, titles, when) {
  const d = FM.describe(e, items, parties, titles);
  return d && { seq: Number(e.seq) || 0, at: (e.at || '').slice(11, 16), when, who: d.who, text: d.text, message: !!d.message };
}

/* After a reload the ticker starts from the log: the records up to the
 * head the stream names (its first "position"), read once. */
export async function backfill(head, onDirty) {
  if (wall.backfilled || !(head > 0)) return;
  wall.backfilled = true;
  try {
    const since = Math.max(0, head - 100);
    const { json } = await api('GET', `/events/log?since=${since}&limit=100`);
    const titles = new Map(), lines = [];
    for (const e of (json && json.events) || []) {
      if (e.seq > head) continue;
      const l = line(e, titles, 0);
      if (l) lines.push(l);
      const f = e.after || e.before;
      if (e.collection !== 'conflicts' && f && f.type === 'Feature' && f.properties && f.properties.title) titles.set(e.collection + '/' + e.item, f.properties.title);
    }
    addTicker([...lines.filter((l) => !l.message).slice(-TICKER_MAX), ...lines.filter((l) => l.message).slice(-CELL_MAX)], onDirty);
  } catch (e) {
    wall.backfilled = false; /* again at the next position */
  }
}
