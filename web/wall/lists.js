/* lists.js - the wall's lists: open conflicts, open disputes (each with
 * its reason, who disputed whose item: reasons.js) and what waits for
 * acknowledgement, each the newest first with ties broken by collection
 * and id (so two rows of the same second never swap between redraws).
 * Longer than their box, they scroll and, left alone, page by themselves
 * ("5–8 of 11" beside the heading), so every counted row is seen. */
import * as FM from '../common.js';
import { $, items, wall, colour, parties, LIST_MAX, IDLE_MS } from './state.js';
import { declutter } from './map.js';
import { reasonOf } from '../js/reasons.js';

const LISTS = ['conflicts', 'disputes', 'open'];

const { esc } = FM;

/* newest first by the time field, then by collection and id (both descending) */
export function byNewest(field) {
  return (a, b) => String((b.properties || {})[field] || '').localeCompare(String((a.properties || {})[field] || '')) ||
    String(b.coll || '').localeCompare(String(a.coll || '')) || Number(b.id) - Number(a.id);
}

export async function loadConflicts() {
  if (!wall.conflictsAvailable) return;
  try {
    const fs = await FM.features('conflicts', null);
    const open = fs.filter((f) => (f.properties.state || 'open') === 'open');
    /* the newest first: the one just opened is the one the room asks about */
    open.sort(byNewest('opened_at'));
    $('conflict-count').textContent = open.length;
    $('conflict-count').classList.toggle('hot', open.length > 0);
    $('conflicts').innerHTML = open.slice(0, LIST_MAX).map((f, i) => {
      const p = f.properties;
      const names = FM.conflictNames(p, items);
      return `<li data-i="${i}" data-id="${esc(f.id)}" style="border-left-color:#ff4d4d;cursor:pointer"><div class="t">${esc(names.join(' × ') || 'conflict')}</div>` +
        `<div class="m"><span class="st disputed">${esc(FM.words(p.kind || 'conflict'))}</span>since ${esc(FM.ago(p.opened_at || p.updated_at))}</div></li>`;
    }).join('') || '<li class="none">None</li>';
    wall.conflictsShown = open;
    pages();
    /* the clash areas in red, replaced wholesale (never accumulated) */
    wall.conflictLayer.clearLayers();
    for (const f of open.slice(0, 200)) if (f.geometry) wall.conflictLayer.addLayer(L.geoJSON(f.geometry, { style: { color: '#ff4d4d', weight: 4, fillColor: '#ff4d4d', fillOpacity: 0.45 }, pointToLayer: (g, ll) => L.circleMarker(ll, { radius: 12, color: '#ff4d4d', weight: 4 }) }));
    declutter();
  } catch (e) {
    if (e.status === 404) { wall.conflictsAvailable = false; $('conflicts-box').hidden = true; }
  }
}

/* what waits for the other side's answer; the disputed ones are in renderDisputes */
export function renderOpen() {
  renderDisputes();
  const open = [...items.values()].filter((f) => FM.OPEN_STATUSES.has(f.properties.status) && f.properties.status !== 'disputed');
  /* the overdue first (their answer is late: the room should see them),
   * each part the newest first */
  const newest = byNewest('updated_at');
  open.sort((a, b) => (b.properties.overdue ? 1 : 0) - (a.properties.overdue ? 1 : 0) || newest(a, b));
  const late = open.filter((f) => f.properties.overdue).length;
  $('open-count').textContent = open.length;
  $('open-count').classList.toggle('hot', late > 0);
  $('open-count').title = late ? `${late} overdue` : '';
  $('open').innerHTML = open.slice(0, LIST_MAX).map((f) => {
    const p = f.properties;
    const tags = (p.overdue ? '<span class="st overdue">overdue</span>' : '') +
      (p.late_notice ? '<span class="st late">late notice</span>' : '');
    return `<li data-key="${esc(f.coll + '/' + f.id)}" class="${p.overdue ? 'overdue' : ''}" style="border-left-color:${esc(colour(p.party))}"><div class="t">${esc(p.title || '(untitled)')}</div>` +
      `<div class="m">${tags}<span class="st ${esc(p.status)}">${esc(FM.label('statuses', p.status))}</span>${esc(FM.partyName(p.party, parties))}'s ${esc(FM.KIND[f.coll])} · ${esc(FM.ago(p.updated_at))}</div></li>`;
  }).join('') || '<li class="none">Nothing waiting</li>';
  pages();
}

/* The disputed items, the newest dispute first, each with its reason in
 * the disputing side's words (asked for once, then live: reasons.js). */
export function renderDisputes() {
  const rows = [...items.values()].filter((f) => f.properties.status === 'disputed').map((f) => ({ f, why: reasonOf(f) }));
  const newest = byNewest('updated_at');
  rows.sort((a, b) => String((b.why && b.why.at) || b.f.properties.updated_at).localeCompare(String((a.why && a.why.at) || a.f.properties.updated_at)) || newest(a.f, b.f));
  $('dispute-count').textContent = rows.length;
  $('dispute-count').classList.toggle('hot', rows.length > 0);
  $('disputes').innerHTML = rows.slice(0, LIST_MAX).map(({ f, why }) => {
    const p = f.properties;
    return `<li data-key="${esc(f.coll + '/' + f.id)}" style="border-left-color:${esc(colour(p.party))}"><div class="t">${esc(p.title || '(untitled)')}</div>` +
      `<div class="why" dir="auto">${why ? '“' + esc(why.reason) + '”' : '…'}</div>` +
      `<div class="m"><span class="st disputed">disputed</span>${why ? 'by ' + esc(FM.partyName(why.party, parties)) + ' · ' : ''}` +
      `${esc(FM.partyName(p.party, parties))}'s ${esc(FM.KIND[f.coll])} · ${esc(FM.ago((why && why.at) || p.updated_at))}</div></li>`;
  }).join('') || '<li class="none">None</li>';
}

/* "5–8 of 11" beside a list's heading while it is longer than its box */
function pageNote(ul, note) {
  const rows = [...ul.children].filter((li) => !li.classList.contains('none'));
  if (ul.scrollHeight <= ul.clientHeight + 2 || !rows.length) { note.textContent = ''; return; }
  const top = ul.scrollTop, bottom = top + ul.clientHeight;
  let first = -1, last = -1;
  rows.forEach((li, i) => {
    const a = li.offsetTop - ul.offsetTop, b = a + li.offsetHeight;
    if (a >= top - 2 && b <= bottom + 2) { if (first < 0) first = i; last = i; }
  });
  if (first < 0) { note.textContent = ''; return; }
  note.textContent = `${first + 1}–${last + 1} of ${rows.length}` + (last + 1 < rows.length ? ' ▾' : '');
}
export function pages() {
  for (const id of LISTS) pageNote($(id), $(id + '-page'));
}
/* one page on (the last whole row stays in view), back to the top at the end */
function pageOn(ul) {
  if (ul.scrollHeight <= ul.clientHeight + 2) return;
  const end = ul.scrollTop + ul.clientHeight >= ul.scrollHeight - 2;
  let next = 0;
  if (!end) {
    const bottom = ul.scrollTop + ul.clientHeight;
    const cut = [...ul.children].find((li) => li.offsetTop - ul.offsetTop + li.offsetHeight > bottom + 2);
    next = cut ? cut.offsetTop - ul.offsetTop : ul.scrollTop + ul.clientHeight;
  }
  ul.scrollTo({ top: next, behavior: 'smooth' });
}
export function pager() {
  for (const ul of LISTS.map($)) if (!(Date.now() - Number(ul.dataset.touched || 0) < IDLE_MS)) pageOn(ul);
}
