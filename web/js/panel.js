/* panel.js - the item panel (issue 19), beside the map: for the selected
 * item its dispute, the supervisor's ruling and the conversation (the
 * thread of thread.js, with Uphold/Overrule for the supervisor), its
 * versions with what changed between each and the one before (properties
 * old -> new, the geometry changed or not), every answer and ruling under
 * the version it answers, and the conflicts the item is in (open and
 * resolved), which the supervisor resolves here with a comment. Opened by
 * the popup's Details button; it then follows the selection, and live.js
 * hands it every record, so it redraws itself when its item, its answers,
 * its rulings or its conflicts change. Items and parties by their names,
 * never by internal ids. */
import * as FM from '../common.js';
import { state, colour } from './state.js';
import { $, toast } from './ui.js';
import { threadPanel, threadEvent, who } from './thread.js';

const { api, esc, words, utc, KIND } = FM;

/* the item shown: {key, coll, id, f} (f: its latest known Feature) */
let cur = null;
let timer = null;

/* the server's fields of a version, not what anyone changed */
const OWN = new Set(['version', 'party', 'created_at', 'created_by', 'updated_at', 'updated_by', 'dispute', 'ruling']);
const ACTION = {
  create: 'created', replace: 'replaced', patch: 'changed', update: 'changed', withdraw: 'withdrawn',
  disputed: 'disputed (by the answer to the version before)', acknowledged: 'acknowledged (by the answer to the version before)',
};

export function panelKey() { return cur ? cur.key : null; }

const partyName = (code) => FM.partyName(code, state.parties);
const partyTag = (code) => `<span class="chip party" style="background:${esc(colour(code))}">${esc(partyName(code))}</span>`;

/* Shows item key in the panel (the same item: just redrawn). */
export function openPanel(key) {
  const f = state.items.get(key);
  if (!f) return;
  const el = $('panel');
  if (!cur || cur.key !== key) {
    cur = { key, coll: f.coll, id: f.id, f };
    el.innerHTML = '<div class="ph"><h2 tabindex="-1"></h2><button class="small close" title="Close (Escape)" aria-label="Close the item panel">×</button></div>' +
      '<div class="sub"></div>' +
      '<section class="conv"><h3>Dispute and conversation</h3></section>' +
      '<section class="vers"><h3>Versions and answers</h3><ol class="versions"><li class="none">Loading…</li></ol></section>' +
      '<section class="cfl"><h3>Conflicts</h3><ul class="conflicts-of"><li class="none">Loading…</li></ul></section>';
    el.querySelector('.close').addEventListener('click', () => closePanel(true));
    el.onkeydown = (ev) => { if (ev.key === 'Escape' && !ev.target.closest('textarea, input')) closePanel(true); };
    el.querySelector('.conv').appendChild(threadPanel(f));
  }
  const wasHidden = el.hidden;
  el.hidden = false;
  if (wasHidden && state.map) state.map.invalidateSize();
  head(f);
  refresh();
}

export function closePanel(focusRow) {
  const key = panelKey();
  cur = null;
  const el = $('panel');
  el.hidden = true;
  el.textContent = '';
  if (state.map) state.map.invalidateSize();
  const row = focusRow && key && document.querySelector(`#list li[data-key="${key}"]`);
  if (row) row.focus();
}

function head(f) {
  const el = $('panel'), p = f.properties;
  el.querySelector('h2').textContent = p.title || '(untitled)';
  el.querySelector('.sub').innerHTML = `${esc(KIND[f.coll] || 'item')} of ${partyTag(p.party)} ` +
    `<span class="chip st-${esc(p.status)}">${esc(FM.label('statuses', p.status))}</span> · version ${esc(p.version)}` +
    (p.urgent ? ` <span class="chip urgent" title="${esc(p.urgent_reason || '')}">urgent</span>` : '') +
    (p.late_notice ? ' <span class="chip late">late notice</span>' : '') +
    (p.overdue ? ' <span class="chip overdue">overdue</span>' : '') +
    (p.urgent && p.urgent_reason ? `<div class="why" dir="auto">Urgent: ${esc(p.urgent_reason)}</div>` : '');
}

/* A record (live.js): redraw what it changes, a moment later (a burst once). */
export function panelEvent(e) {
  if (!cur) return;
  if (e.collection === 'conflicts') {
    const its = ((e.after || e.before || {}).properties || {}).items || [];
    if (its.some((it) => it.collection + '/' + it.id === cur.key)) schedule();
    return;
  }
  if (e.collection + '/' + e.item !== cur.key) return;
  if (e.action === 'message' || e.action === 'seen') return; /* the thread redraws itself */
  if (!['ack', 'dispute', 'ruling'].includes(e.action)) threadEvent(e); /* a new version: the thread's dispute, ruling, buttons */
  schedule();
}
/* A new snapshot (live.js: a reconnect, the time slider): all of it again,
 * the thread too (looking back, it takes no message). */
export function refreshPanel() {
  if (!cur) return;
  threadEvent({ collection: cur.coll, item: cur.id });
  schedule();
}
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => { timer = null; refresh(); }, 200);
}

async function refresh() {
  const c = cur;
  if (!c) return;
  const base = `/collections/${c.coll}/items/${c.id}`;
  let hist, answers;
  try {
    [hist, answers] = await Promise.all([api('GET', base + '/history'), api('GET', base + '/acks')]);
  } catch (e) {
    if (cur !== c) return;
    $('panel').querySelector('.versions').innerHTML = `<li class="none">${esc(e.status === 404 ? 'This item is not there any more.' : 'Cannot load its history: ' + e.message)}</li>`;
    return;
  }
  if (cur !== c) return;
  const vs = (hist.json.versions || []).slice().sort((a, b) => a.version - b.version);
  if (vs.length) head(Object.assign({}, vs[vs.length - 1].feature, { coll: c.coll }));
  versions(c, vs, answers.json || {});
  conflicts(c, vs);
}

/* ---- versions and answers ------------------------------------------------ */

function value(k, x) {
  if (x === undefined || x === null || x === '') return '—';
  if (k === 'status') return FM.label('statuses', x);
  if (typeof x === 'string' && /_(at|from|to)$/.test(k)) return utc(x);
  const s = typeof x === 'object' ? JSON.stringify(x) : String(x);
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
}

/* what changed from Feature a to b: [{k, from, to}], and the geometry */
export function changes(a, b) {
  const pa = a.properties || {}, pb = b.properties || {};
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].filter((k) => !OWN.has(k));
  const props = keys.filter((k) => JSON.stringify(pa[k]) !== JSON.stringify(pb[k])).map((k) => ({ k, from: pa[k], to: pb[k] }));
  return { props, geometry: JSON.stringify(a.geometry) !== JSON.stringify(b.geometry) };
}

function versions(c, vs, answers) {
  const acks = answers.acks || [], rulings = answers.rulings || [];
  /* the party of each person, from what they signed with theirs */
  const partyOf = new Map();
  for (const a of [...acks, ...rulings]) partyOf.set(a.by, a.party);
  if (state.me) partyOf.set(state.me.user, state.me.party);
  const person = (by) => (partyOf.has(by) ? who(by, partyOf.get(by)) : esc(by));
  const rows = vs.map((v, i) => {
    const p = v.feature.properties || {};
    let chg;
    if (!i) {
      chg = `<li class="same">first version${p.status ? ', ' + esc(FM.label('statuses', p.status)) : ''}</li>`;
    } else {
      const d = changes(vs[i - 1].feature, v.feature);
      chg = d.props.map((x) => `<li><span class="k">${esc(words(x.k))}</span> <span dir="auto">${esc(value(x.k, x.from))}</span> → <span dir="auto">${esc(value(x.k, x.to))}</span></li>`).join('') +
        (d.props.length ? '' : '<li class="same">properties unchanged</li>') +
        `<li class="${d.geometry ? 'geo' : 'same'}">geometry ${d.geometry ? 'changed' : 'unchanged'}</li>`;
    }
    const said = acks.filter((a) => a.version === v.version).map((a) =>
      `<li class="a ${a.decision === 'dispute' ? 'dispute' : 'ack'}"><b>${esc(partyName(a.party))} ${a.decision === 'dispute' ? 'disputed' : 'acknowledged'} this version</b> · ${esc(a.by)} · ${esc(utc(a.at))}` +
      (a.comment ? `<div class="why" dir="auto">${esc(a.comment)}</div>` : '') + '</li>').join('') +
      rulings.filter((r) => r.version === v.version).map((r) =>
        `<li class="a ruling"><b>${esc(partyName(r.party))} ${r.decision === 'uphold' ? 'upheld the dispute: the item must change' : 'overruled the dispute: the item stands'}</b> · ${esc(r.by)} · ${esc(utc(r.at))}` +
        `<div class="why" dir="auto">${esc(r.reason)}</div></li>`).join('');
    return `<li class="ver" data-version="${esc(v.version)}"><div class="vh"><b>v${esc(v.version)}</b> ${esc(ACTION[v.action] || words(v.action))} · ${person(v.by)} · ${esc(utc(v.at))}</div>` +
      `<ul class="chg">${chg}</ul>${said ? `<ul class="answers">${said}</ul>` : ''}</li>`;
  });
  $('panel').querySelector('.vers h3').textContent = `Versions and answers (${vs.length})`;
  $('panel').querySelector('.versions').innerHTML = rows.reverse().join('') || '<li class="none">No version you may see.</li>';
}

/* ---- the conflicts the item is in ---------------------------------------- */

/* the box around every version's geometry: a conflict lies inside it */
function bboxOf(vs) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (x) => {
    if (typeof x[0] === 'number') { b[0] = Math.min(b[0], x[0]); b[1] = Math.min(b[1], x[1]); b[2] = Math.max(b[2], x[0]); b[3] = Math.max(b[3], x[1]); } else x.forEach(walk);
  };
  for (const v of vs) { const g = v.feature.geometry; if (g && g.coordinates) walk(g.coordinates); }
  return b[0] <= b[2] ? [b[0] - 1e-6, b[1] - 1e-6, b[2] + 1e-6, b[3] + 1e-6] : null;
}

async function conflicts(c, vs) {
  const ul = () => $('panel').querySelector('.conflicts-of');
  const box = bboxOf(vs);
  if (!box || state.noConflicts) { if (cur === c) ul().innerHTML = '<li class="none">None.</li>'; return; }
  let fs;
  try {
    fs = await FM.features('conflicts', null, 'bbox=' + box.map((x) => x.toFixed(7)).join(','));
  } catch (e) {
    if (cur === c) ul().innerHTML = `<li class="none">${esc(e.status === 404 ? 'None.' : 'Cannot load its conflicts: ' + e.message)}</li>`;
    return;
  }
  if (cur !== c) return;
  const mine = fs.filter((f) => (f.properties.items || []).some((it) => it.collection + '/' + it.id === c.key));
  mine.sort((a, b) => ((a.properties.state === 'open' ? 0 : 1) - (b.properties.state === 'open' ? 0 : 1)) ||
    String(b.properties.opened_at).localeCompare(String(a.properties.opened_at)));
  const sup = state.me && state.me.role === 'supervisor' && !state.asOf;
  ul().innerHTML = mine.map((f) => {
    const p = f.properties, open = (p.state || 'open') === 'open';
    const other = (p.items || []).find((it) => it.collection + '/' + it.id !== c.key);
    const og = other && state.items.get(other.collection + '/' + other.id);
    const name = og && og.properties.title ? `${KIND[other.collection] || 'item'} “${og.properties.title}”` : other ? FM.anItem(other.collection) : 'another item';
    return `<li class="cf ${open ? 'open' : 'resolved'}" data-id="${esc(f.id)}"><div><b>${esc(words(p.kind || 'conflict'))}</b> with <span dir="auto">${esc(name)}</span>` +
      `${og ? ' of ' + esc(partyName(og.properties.party)) : ''}${p.severity ? ' · severity ' + esc(p.severity) : ''}</div>` +
      `<div class="m">${open ? 'open since ' + esc(utc(p.opened_at)) : p.resolved_by ? `resolved by ${esc(p.resolved_by)} at ${esc(utc(p.resolved_at))}` : `cleared at ${esc(utc(p.resolved_at || p.updated_at))}`}</div>` +
      /* a person's comment; a conflict cleared by itself has the server's note, which names ids */
      (p.comment && p.resolved_by ? `<div class="why" dir="auto">${esc(p.comment)}</div>` : '') +
      (open && sup ? '<div class="resolve"><input dir="auto" aria-label="How it was settled" placeholder="How it was settled…"><button class="small">Resolve</button></div>' : '') + '</li>';
  }).join('') || '<li class="none">None.</li>';
  $('panel').querySelector('.cfl h3').textContent = `Conflicts (${mine.filter((f) => (f.properties.state || 'open') === 'open').length} open of ${mine.length})`;
  for (const li of ul().querySelectorAll('li.cf.open')) {
    const b = li.querySelector('.resolve button');
    if (!b) continue;
    b.addEventListener('click', async () => {
      const input = li.querySelector('input'), comment = input.value.trim();
      if (!comment) { toast('Say how the conflict was settled.'); input.focus(); return; }
      try {
        await api('POST', `/collections/conflicts/items/${li.dataset.id}/resolve`, { comment });
        toast('Conflict resolved.');
        schedule();
      } catch (e) {
        toast('Not resolved: ' + e.message);
      }
    });
  }
}
