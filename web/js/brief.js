/* brief.js - the Brief button (in the bar): a one-page PDF briefing sheet
 * of what is on screen, GET /map.pdf with the map's bounds and, away from
 * now, its time; drawn by the server (titles in every label, the legend,
 * the time), for the caller's eyes (their drafts, nobody else's). It is a
 * link, so it opens in a new tab and works from the keyboard; its address
 * follows the view. */
import { state, tq } from './state.js';
import { $ } from './ui.js';

/* the PDF's address for the current view */
export function briefUrl() {
  const b = state.map.getBounds();
  const f = (x) => x.toFixed(5);
  const bbox = [f(Math.max(-180, b.getWest())), f(Math.max(-85, b.getSouth())), f(Math.min(180, b.getEast())), f(Math.min(85, b.getNorth()))].join(',');
  const t = tq();
  return '/map.pdf?bbox=' + bbox + (t ? '&' + t.slice(1) : '');
}

export function initBrief() {
  const a = $('brief');
  const update = () => { a.href = briefUrl(); };
  state.map.on('moveend', update);
  a.addEventListener('click', update); /* the time may have moved since */
  a.addEventListener('focus', update);
  update();
}
