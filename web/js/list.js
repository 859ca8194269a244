/* list.js - the side list of items and its filters. */
import * as FM from '../common.js';
import { state, colour, viewTime, isAhead } from './state.js';
import { $, rowKeys } from './ui.js';
import { select, chip, partyChip } from './items.js';
import { reasonOf, onLearn } from './reasons.js';

const { esc, utc, ago, KIND } = FM;

export function fillFilters() {
  const party = $('f-party');
  party.length = 1;
  for (const p of Object.values(state.parties)) party.add(new Option(p.name + ' (' + p.code + ')', p.code));
  fillStatuses();
  for (const id of ['f-kind', 'f-party', 'f-status']) $(id).onchange = () => { if (id === 'f-kind') fillStatuses(); renderList(); };
  $('f-text').oninput = renderList;
}

export function fillStatuses() {
  const kind = $('f-kind').value, sel = $('f-status'), keep = sel.value;
  const list = kind ? FM.STATUSES[kind] : [...new Set(Object.values(FM.STATUSES).flat())];
  sel.length = 1;
  for (const s of list) if (s !== 'withdrawn') sel.add(new Option(FM.label('statuses', s), s));
  sel.value = list.includes(keep) ? keep : '';
}

onLearn(() => renderList());

/* overdue and late notice, as the map marks them (not on drafts, nor in the past) */
function marks(p) {
  if (p.status === 'draft' || (state.asOf && !isAhead())) return '';
  return (p.overdue ? ' <span class="chip overdue">overdue</span>' : '') + (p.late_notice ? ' <span class="chip late">late</span>' : '');
}

export function renderList() {
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
      `<span class="t" title="${esc(p.title)}">${esc(p.title || '(untitled)')}</span><span>${chip(p.status)}${marks(p)}</span>` +
      `<span class="m">${esc(KIND[f.coll])}${p.type && f.coll !== 'incidents' ? ' · ' + esc(FM.label(f.coll === 'zones' ? 'zone_types' : 'movement_kinds', p.type)) : ''}${p.severity ? ' · severity ' + esc(p.severity) : ''} · ${partyChip(p.party)} · ${esc(ago(p.updated_at))}${when}</span>`;
    /* a disputed item says why, in the other side's words (reasons.js) */
    const why = !state.asOf && reasonOf(f);
    if (why) li.insertAdjacentHTML('beforeend', `<span class="why" dir="auto" title="${esc(why.reason)}">${esc(FM.partyName(why.party, state.parties))}: ${esc(why.reason)}</span>`);
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
