/* thread.js - an item's dispute, ruling and thread in its popup (issue 19):
 * the latest dispute's reason and the supervisor's ruling (the item's
 * properties dispute and ruling, GET .../items/{id}), the messages (any
 * script, each shown in its own direction), who has seen them, a box to
 * write one, and for the supervisor on a disputed item, Uphold and
 * Overrule with a reason. Live: a message, receipt or ruling on an open
 * item's thread (live.js hands them here) redraws it. The same item may be
 * open in its popup and in the item panel (panel.js); the popup is then
 * compact: the dispute and ruling, the conversation in the panel. */
import * as FM from '../common.js';
import { state } from './state.js';
import { toast } from './ui.js';

const { api, esc, utc } = FM;
/* records that are no version of an item (common.js): they redraw the
 * open threads, never the map */
export const THREAD_ACTIONS = FM.THREAD_ACTIONS;

const CSS = `
.pop .thread { border-top: 1px solid #dee2e6; margin-top: 8px; padding-top: 6px; max-width: 340px; }
.thread .dispute, .thread .ruling { margin: 6px 0; padding: 4px 6px; border-radius: 4px; font-size: 12px; }
.thread .dispute { background: #fff5f5; border-left: 3px solid #c92a2a; }
.thread .ruling { background: #f1f3f5; border-left: 3px solid #2b8a3e; }
.thread .msgs { max-height: 160px; overflow-y: auto; font-size: 12px; margin: 4px 0; }
.thread .msg { margin: 3px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.thread .msg .who { color: #6c757d; font-size: 11px; }
.thread .seen { color: #6c757d; font-size: 11px; }
.thread .compose { display: flex; gap: 4px; margin-top: 4px; }
.thread .compose textarea { flex: 1; font: inherit; font-size: 12px; min-height: 2.4em; }
.thread .rule { display: flex; gap: 6px; margin-top: 6px; }
.thread .rule input { flex: 1; min-width: 0; }
`;
let styled = false;
function style() {
  if (styled) return;
  const el = document.createElement('style');
  el.textContent = CSS;
  document.head.appendChild(el);
  styled = true;
}

/* the open threads: {key, f, el, compact} (a popup's, the item panel's) */
const open = new Set();

const mayWrite = () => !state.asOf && state.me && (state.me.role === 'liaison' || state.me.role === 'supervisor');

/* The thread of Feature f: filled when the answers arrive, then
 * onFill() if given. compact: the dispute and ruling only (the
 * conversation is in the item panel). */
export function threadPanel(f, compact, onFill) {
  style();
  const el = document.createElement('div');
  el.className = 'thread';
  el.innerHTML = '<div class="seen">Loading the conversation…</div>';
  const p = { key: f.coll + '/' + f.id, f, el, compact: !!compact, onFill };
  for (const q of open) if (!q.el.isConnected && q.filled) open.delete(q);
  open.add(p);
  fill(p);
  return el;
}

/* a person as people read them: the user and the party's name */
export function who(by, party) { return `${esc(by)} (${esc(FM.partyName(party, state.parties))})`; }

/* a quoted version by its item's title, never its id */
function quoted(q) {
  const g = state.items.get(q.collection + '/' + q.id);
  return g && g.properties.title ? '“' + g.properties.title + '”' : FM.anItem(q.collection);
}

async function fill(p) {
  const base = `/collections/${p.f.coll}/items/${p.f.id}`;
  let item, thread;
  try {
    item = (await api('GET', base)).json;
    thread = (await api('GET', base + '/messages')).json;
  } catch (e) {
    p.el.innerHTML = '';
    p.filled = true;
    return;
  }
  if (!open.has(p)) return;
  p.filled = true;
  const props = item.properties || {};
  const parts = [];
  if (props.dispute) {
    const d = props.dispute;
    parts.push(`<div class="dispute"><b>Disputed</b> by ${who(d.by, d.party)}, ${esc(utc(d.at))} (v${esc(d.version)}):<div dir="auto">${esc(d.reason || '')}</div></div>`);
  }
  if (props.ruling) {
    const r = props.ruling;
    const what = r.decision === 'uphold' ? 'Dispute upheld: the item must change' : 'Dispute overruled: the item stands';
    parts.push(`<div class="ruling"><b>${esc(what)}</b> (${who(r.by, r.party)}, ${esc(utc(r.at))}):<div dir="auto">${esc(r.reason)}</div></div>`);
  }
  if (p.compact) {
    parts.push('<div class="seen">The conversation is in the item panel.</div>');
    p.el.innerHTML = parts.join('');
    if (p.onFill) p.onFill();
    return;
  }
  const msgs = thread.messages || [];
  parts.push(`<div class="msgs" aria-label="messages">${msgs.length ? msgs.map((m) =>
    `<div class="msg"><div class="who">${who(m.by, m.party)} · ${esc(utc(m.at))}${m.quote ? ` · quotes ${esc(quoted(m.quote))} v${esc(m.quote.version)}` : ''}</div><div dir="auto">${esc(m.text)}</div></div>`).join('') : '<div class="seen">No message yet.</div>'}</div>`);
  const seen = (thread.seen || []).filter((s) => !state.me || s.party !== state.me.party);
  if (seen.length) parts.push(`<div class="seen">${seen.map((s) => `Seen by ${esc(FM.partyName(s.party, state.parties))} at ${esc(utc(s.at))}`).join(' · ')}</div>`);
  p.el.innerHTML = parts.join('');
  const box = p.el.querySelector('.msgs');
  box.scrollTop = box.scrollHeight;
  if (mayWrite()) compose(p, base);
  if (state.me && state.me.role === 'supervisor' && props.status === 'disputed' && props.party !== state.me.party &&
      !(props.ruling && props.ruling.version === props.version)) rule(p, base, props.version);
  if (p.onFill) p.onFill();
  /* this party has seen them now */
  const mine = (thread.seen || []).find((s) => state.me && s.party === state.me.party);
  if (mayWrite() && msgs.length && (!mine || mine.upto < msgs[msgs.length - 1].id))
    api('POST', base + '/messages/seen').catch(() => {});
}

function compose(p, base) {
  const c = document.createElement('div');
  c.className = 'compose';
  c.innerHTML = '<textarea dir="auto" maxlength="4000" aria-label="Write a message" placeholder="Write a message…"></textarea><button>Send</button>';
  const ta = c.querySelector('textarea');
  c.querySelector('button').addEventListener('click', async () => {
    const text = ta.value.trim();
    if (!text) return;
    try {
      await api('POST', base + '/messages', { text });
      ta.value = '';
      fill(p);
    } catch (e) {
      toast(e.status === 429 ? 'Too many messages: wait a little.' : 'Not sent: ' + e.message);
    }
  });
  p.el.appendChild(c);
}

function rule(p, base, version) {
  const r = document.createElement('div');
  r.className = 'rule';
  r.innerHTML = '<input aria-label="Reason of the ruling" placeholder="Reason of the ruling…" dir="auto"><button data-d="uphold" class="danger">Uphold</button><button data-d="overrule">Overrule</button>';
  for (const b of r.querySelectorAll('button')) {
    b.addEventListener('click', async () => {
      const reason = r.querySelector('input').value.trim();
      if (!reason) { toast('A ruling says why.'); r.querySelector('input').focus(); return; }
      try {
        await api('POST', base + '/ruling', { decision: b.dataset.d, reason }, { 'If-Match': '"' + version + '"' });
        toast(b.dataset.d === 'uphold' ? 'Dispute upheld.' : 'Dispute overruled.');
        fill(p);
      } catch (e) {
        toast('Not ruled: ' + e.message);
      }
    });
  }
  p.el.appendChild(r);
}

/* A record of a thread (live.js), or a new version of its item
 * (panel.js): redraw the open threads it concerns. */
export function threadEvent(e) {
  for (const p of open) {
    if (!p.el.isConnected) { if (p.filled) open.delete(p); continue; }
    if (e.collection + '/' + e.item === p.key) fill(p);
  }
}
