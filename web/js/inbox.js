/* inbox.js - "waiting for me" (issue 19): GET /inbox as counts in the page
 * header (the total, and the overdue ones apart) and a panel listing them
 * in names people read: the other side's items to answer (the supervisor:
 * the disputes to rule on), disputes of and rulings on the user's items,
 * open conflicts with them, unseen messages, overdue items. Live: every
 * event of the stream (live.js hands them here) asks for the inbox again,
 * at most one request at a time. A row of an item opens it on the map.
 * A new entry that needs the user (to answer, to rule on, overdue) rings a
 * short tone and, where the browser allows it, shows a notification; the
 * panel's bell turns both off (kept in localStorage). The overdue entries
 * can be narrowed by how late they are (the server's overdue_by_s, aged
 * since the answer; GET /inbox?overdue_min_s= does the same for other
 * clients): the choice is kept, and the header's counts stay whole. */
import * as FM from '../common.js';
import { state, keyOf } from './state.js';
import { select } from './items.js';

const { api, esc, utc, KIND } = FM;

const CSS = `
.inbox-btn { position: relative; background: #3a4d62; color: #fff; border: 0; border-radius: 10px; padding: 2px 10px; font-size: 12px; cursor: pointer; }
.inbox-btn .n { display: inline-block; min-width: 1.4em; text-align: center; margin-left: 4px; padding: 0 5px; border-radius: 8px; background: #868e96; font-weight: 600; }
.inbox-btn.some .n { background: #e67700; }
.inbox-btn .od { margin-left: 6px; padding: 0 6px; border-radius: 8px; background: #c92a2a; font-weight: 600; }
.inbox-panel { position: fixed; top: 48px; right: 12px; width: 380px; max-height: calc(100vh - 70px); overflow-y: auto; z-index: 1200;
  background: #fff; color: #212529; border: 1px solid #ced4da; border-radius: 6px; box-shadow: 0 6px 24px rgba(0,0,0,.25); font-size: 13px; }
.inbox-panel h3 { margin: 0; padding: 8px 12px; font-size: 14px; border-bottom: 1px solid #dee2e6; display: flex; justify-content: space-between; align-items: center; }
.inbox-panel .bell { font-size: 11px; }
.inbox-panel h4 { margin: 8px 12px 2px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #495057; }
.inbox-panel h4 .c { color: #868e96; font-weight: normal; }
.inbox-panel ul { list-style: none; margin: 0; padding: 0 6px 4px; }
.inbox-panel li { padding: 4px 6px; border-radius: 4px; cursor: pointer; overflow-wrap: anywhere; }
.inbox-panel li:hover, .inbox-panel li:focus { background: #f1f3f5; outline: none; }
.inbox-panel li .sub { color: #6c757d; font-size: 12px; }
.inbox-panel .empty { padding: 10px 12px; color: #6c757d; }
.inbox-panel .od li { border-left: 3px solid #c92a2a; }
.chip.late { background: #f6e8fc; color: #5f1a85; border: 1px solid #8f29c2; }
.chip.overdue { background: #ff9f1c; color: #000; font-weight: 600; }
.inbox-panel h4 select { margin-left: 6px; font-size: 11px; text-transform: none; letter-spacing: 0; }
.inbox-panel .hidden-n { padding: 2px 12px 6px; color: #6c757d; font-size: 12px; }
`;

/* How late an overdue entry must be to be listed: [value, label, min_s, max_s] */
const AGES = [
  ['all', 'all', null, null],
  ['lt1h', 'late under 1 h', null, 3599],
  ['1h', 'late 1 h or more', 3600, null],
  ['6h', 'late 6 h or more', 6 * 3600, null],
  ['24h', 'late 24 h or more', 24 * 3600, null],
];
const ageChoice = () => { try { return localStorage.getItem('fm-inbox-overdue-age') || 'all'; } catch (e) { return 'all'; } };
const lateBy = (s) => (s >= 86400 ? `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
  : s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : `${Math.max(1, Math.floor(s / 60))} min`);

const SECTIONS = [
  ['overdue', 'Overdue'],
  ['to_answer', 'To answer'],
  ['to_rule', 'Disputes to rule on'],
  ['disputed', 'Your items disputed'],
  ['rulings', 'Rulings on your items'],
  ['conflicts', 'Conflicts with your items'],
  ['messages', 'Unseen messages'],
];

let btn = null, panel = null, last = null, lastAt = 0, timer = null, busy = false, again = false;
/* the entries that need the user, seen at the last answer (null: none yet) */
let needs = null;
const ALERT_KINDS = ['to_answer', 'to_rule', 'overdue'];
const alertsOn = () => { try { return localStorage.getItem('fm-inbox-alerts') !== 'off'; } catch (e) { return true; } };
window.fmInboxAlerts = 0; /* for tests: how many alerts were given */

/* A tone and a notification for what is new and needs the user. */
function alertNew(fresh) {
  if (!fresh.length || !alertsOn()) return;
  window.fmInboxAlerts++;
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.08;
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.15);
    o.onended = () => ctx.close();
  } catch (e) { /* no sound here */ }
  if ('Notification' in window && Notification.permission === 'granted') {
    const e = fresh[0];
    try { new Notification('fusionmap: ' + (e.kind === 'overdue' ? 'overdue' : 'waiting for you'), { body: `${e.title} (${partyName(e.party)})` + (fresh.length > 1 ? ` and ${fresh.length - 1} more` : ''), tag: 'fm-inbox' }); } catch (err) { /* not allowed here */ }
  }
}

const partyName = (code) => (state.parties[code] && state.parties[code].name) || code;
const itemName = (e) => `<b>${esc(e.title)}</b> <span class="sub">${esc(KIND[e.collection] || 'item')} · ${esc(partyName(e.party))}</span>`;

/* Starts the inbox for a liaison or the supervisor (the others answer nothing). */
export function initInbox() {
  const mine = state.me && ['liaison', 'supervisor'].includes(state.me.role);
  if (btn) { /* logged in again, maybe as someone else */
    if (panel) toggle();
    if (mine) { refresh(); return; }
    btn.remove();
    btn = null;
  }
  if (!mine) return;
  const el = document.createElement('style');
  el.textContent = CSS;
  document.head.appendChild(el);
  btn = document.createElement('button');
  btn.id = 'inbox-btn';
  btn.className = 'inbox-btn';
  btn.title = 'what waits for you';
  btn.setAttribute('aria-expanded', 'false');
  btn.innerHTML = 'Inbox<span class="n" id="inbox-count">…</span><span class="od" id="inbox-overdue" hidden></span>';
  btn.addEventListener('click', toggle);
  const who = document.getElementById('who');
  who.parentNode.insertBefore(btn, who);
  refresh();
}

/* Any event may change what waits: ask again, soon, once. */
export function inboxEvent() {
  if (!btn) return;
  clearTimeout(timer);
  timer = setTimeout(refresh, 250);
}

async function refresh() {
  if (busy) { again = true; return; }
  busy = true;
  try {
    const { json } = await api('GET', '/inbox');
    last = json;
    lastAt = Date.now();
    render();
  } catch (e) { /* the next event asks again */ }
  busy = false;
  if (again) { again = false; refresh(); }
}

function render() {
  const c = last.counts;
  const n = document.getElementById('inbox-count'), od = document.getElementById('inbox-overdue');
  n.textContent = String(c.total);
  btn.classList.toggle('some', c.total > 0);
  od.hidden = !c.overdue;
  od.textContent = c.overdue ? `${c.overdue} overdue` : '';
  btn.title = 'what waits for you: ' + SECTIONS.map(([k, t]) => `${t.toLowerCase()} ${c[k]}`).join(', ');
  state.overdue = new Set(last.overdue.map((e) => keyOf(e.collection, e.id)));
  const now = new Map();
  for (const k of ALERT_KINDS) for (const e of last[k] || []) now.set(`${k}:${e.collection}/${e.id}/${e.version}`, Object.assign({ kind: k }, e));
  if (needs) alertNew([...now.keys()].filter((k) => !needs.has(k)).map((k) => now.get(k)));
  needs = new Set(now.keys());
  if (panel) fill();
}

function toggle() {
  if (panel) { panel.remove(); panel = null; btn.setAttribute('aria-expanded', 'false'); return; }
  panel = document.createElement('div');
  panel.id = 'inbox-panel';
  panel.className = 'inbox-panel';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', 'Inbox');
  document.body.appendChild(panel);
  btn.setAttribute('aria-expanded', 'true');
  panel.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { toggle(); btn.focus(); } });
  if (last) fill(); else panel.innerHTML = '<div class="empty">Loading…</div>';
}

function line(kind, e) {
  const due = e.answer_due ? ` · answer by ${esc(utc(e.answer_due))}` : '';
  const late = e.late_notice ? ' <span class="chip late">late notice</span>' : '';
  switch (kind) {
    case 'overdue':
      return `${itemName(e)}<div class="sub">was due ${esc(utc(e.answer_due))}${typeof e.overdue_by_s === 'number' ? ` · late ${esc(lateBy(ageOf(e)))}` : ''} · waiting for ${esc(e.waiting_for)}</div>`;
    case 'to_answer': return `${itemName(e)}${late}<div class="sub">${esc(e.status)}${due}</div>`;
    case 'to_rule': case 'disputed':
      return `${itemName(e)}<div class="sub">${e.dispute ? `disputed by ${esc(partyName(e.dispute.party))}: “${esc(e.dispute.reason)}”` : 'disputed'}</div>`;
    case 'rulings':
      return `${itemName(e)}<div class="sub">${e.ruling.decision === 'uphold' ? 'upheld the dispute' : 'overruled the dispute'}: “${esc(e.ruling.reason)}”</div>`;
    case 'conflicts':
      return `${e.items.map((i) => `<b>${esc(i.title)}</b> <span class="sub">(${esc(partyName(i.party))})</span>`).join(' × ')}<div class="sub">${esc(String(e.kind).replace(/_/g, ' '))}${e.severity ? ' · severity ' + esc(e.severity) : ''}</div>`;
    case 'messages':
      return `<b>${esc(e.title)}</b> <span class="sub">${esc(e.unseen)} unseen</span><div class="sub">${esc(e.last.by)} (${esc(partyName(e.last.party))}): ${esc(String(e.last.text).slice(0, 80))}</div>`;
    default: return '';
  }
}

/* Seconds late now: the server's count at the answer, plus the time since. */
const ageOf = (e) => (e.overdue_by_s || 0) + Math.max(0, Math.floor((Date.now() - lastAt) / 1000));

/* The overdue entries the chosen age keeps. */
function overdueShown() {
  const [, , min, max] = AGES.find((a) => a[0] === ageChoice()) || AGES[0];
  return (last.overdue || []).filter((e) => (min === null || ageOf(e) >= min) && (max === null || ageOf(e) <= max));
}

function keyOfEntry(kind, e) {
  if (kind === 'conflicts') return e.items[0] && keyOf(e.items[0].collection, e.items[0].id);
  if (kind === 'messages') return e.collection ? keyOf(e.collection, e.id) : null;
  return keyOf(e.collection, e.id);
}

function fill() {
  const c = last.counts;
  let html = `<h3><span>Waiting for you <span class="sub">${esc(c.total)}</span></span><button class="small bell" id="inbox-alerts" aria-pressed="${alertsOn()}" title="a tone and a browser notification for a new item that needs you">${alertsOn() ? 'Alerts on' : 'Alerts off'}</button></h3>`;
  let any = false;
  const shown = { overdue: overdueShown() };
  for (const [k, title] of SECTIONS) {
    const all = last[k] || [];
    if (!all.length) continue;
    any = true;
    const list = shown[k] || all;
    if (k === 'overdue') {
      const choice = ageChoice();
      html += `<h4>${esc(title)} <span class="c">${list.length === all.length ? esc(c[k]) : `${list.length} of ${esc(c[k])}`}</span>` +
        `<select id="inbox-od-age" aria-label="overdue entries by how late">${AGES.map(([v, l]) => `<option value="${v}"${v === choice ? ' selected' : ''}>${esc(l)}</option>`).join('')}</select></h4>`;
    } else {
      html += `<h4>${esc(title)} <span class="c">${esc(c[k])}</span></h4>`;
    }
    html += `<ul class="${k === 'overdue' ? 'od' : ''}" data-kind="${k}">` +
      list.map((e) => `<li tabindex="0" data-i="${all.indexOf(e)}">${line(k, e)}</li>`).join('') + '</ul>';
    if (list.length < all.length) html += `<div class="hidden-n" id="inbox-od-hidden">${all.length - list.length} more overdue outside the chosen age</div>`;
  }
  if (!any) html += '<div class="empty">Nothing waits for you.</div>';
  panel.innerHTML = html;
  panel.querySelector('#inbox-alerts').addEventListener('click', () => {
    const on = !alertsOn();
    try { localStorage.setItem('fm-inbox-alerts', on ? 'on' : 'off'); } catch (e) { /* this page only */ }
    if (on && 'Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    fill();
  });
  const age = panel.querySelector('#inbox-od-age');
  if (age) age.addEventListener('change', () => {
    try { localStorage.setItem('fm-inbox-overdue-age', age.value); } catch (e) { /* this page only */ }
    fill();
    const again = panel.querySelector('#inbox-od-age');
    if (again) again.focus();
  });
  for (const ul of panel.querySelectorAll('ul')) {
    const kind = ul.dataset.kind;
    for (const li of ul.querySelectorAll('li')) {
      const go = () => {
        const key = keyOfEntry(kind, last[kind][Number(li.dataset.i)]);
        if (key && state.layers.has(key)) select(key, true);
      };
      li.addEventListener('click', go);
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); } });
    }
  }
}
