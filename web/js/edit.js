/* edit.js - creating (a drawn shape and its form), editing with If-Match
 * (a 412 becomes a reload / compare choice, never an overwrite),
 * acknowledging, disputing and withdrawing. */
import * as FM from '../common.js';
import { state } from './state.js';
import { $, toast, dialog } from './ui.js';
import { put, drop } from './items.js';
import { renderList } from './list.js';
import { form, fieldsFor, defaults } from './forms.js';
import { reload } from './live.js';
import { signedAnswer } from './signing.js';

const { api, esc, words, utc } = FM;

export async function onDrawn(layer, shape) {
  /* one drawing, one form: the tool goes off (the marker tool would
   * otherwise stay on, and the next click start another report) */
  state.map.pm.disableDraw();
  const coll = shape === 'Marker' ? 'incidents' : shape === 'Line' ? 'movements' : 'zones';
  const geometry = layer.toGeoJSON().geometry;
  const what = { zones: 'New zone', incidents: 'Report an incident', movements: 'Notify a movement' }[coll];
  const ok = await form(what, coll, defaults(coll), async (props) => {
    try {
      const { json } = await api('POST', '/collections/' + coll + '/items', { type: 'Feature', geometry, properties: props },
        { 'Content-Type': 'application/geo+json' });
      put(Object.assign(json, { coll }), true);
      renderList();
      return null;
    } catch (e) { return e; }
  });
  layer.remove();
  if (ok) toast(what.replace(/^New /, 'The ').replace(/^Report an/, 'The').replace(/^Notify a/, 'The') + ' is saved.');
}

export async function editDetails(key) {
  const f = state.items.get(key);
  if (!f) return;
  const coll = f.coll, id = f.id;
  let version = f.properties.version;
  const values = Object.assign({}, f.properties);
  await form('Edit “' + (f.properties.title || '') + '”', coll, values, async function submit(props) {
    /* only what this person changed: a colleague's change to another
     * field survives "save mine" after a conflict */
    const changed = {};
    for (const k of Object.keys(props)) if (JSON.stringify(props[k]) !== JSON.stringify(f.properties[k])) changed[k] = props[k];
    for (const k of Object.keys(f.properties)) if (!(k in props) && fieldsFor(coll).some((x) => x.name === k)) changed[k] = null;
    if (!Object.keys(changed).length) return null;
    try {
      const { json } = await api('PATCH', `/collections/${coll}/items/${id}`, { properties: changed },
        { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + version + '"' });
      put(Object.assign(json, { coll }), true);
      renderList();
      return null;
    } catch (e) {
      if (e.status !== 412) return e;
      const choice = await conflict(coll, id, props, f.properties);
      if (choice.action === 'mine') { version = choice.version; return submit(props); }
      if (choice.action === 'reload') return null;
      return { message: 'Not saved: someone changed this item. Reload it to see their version.' };
    }
  });
}

/* The 412 dialog: what I meant to save against what is on the server
 * now. Resolves {action: 'reload'|'mine'|'cancel', version}. */
export async function conflict(coll, id, mine, base) {
  let theirs;
  try {
    theirs = (await api('GET', `/collections/${coll}/items/${id}`)).json;
  } catch (e) {
    await dialog('This item is gone', `<p>Someone withdrew this item while you were editing. Your changes were not saved.</p><div class="buttons"><button class="primary" data-act="ok">OK</button></div>`,
      (body, close) => body.querySelector('[data-act=ok]').addEventListener('click', () => close()));
    drop(`${coll}/${id}`);
    renderList();
    return { action: 'reload' };
  }
  const tp = theirs.properties;
  const names = [...new Set([...Object.keys(mine), 'title', 'status'])];
  const labels = Object.fromEntries(fieldsFor(coll).map((f) => [f.name, f.label.replace(/ \*$/, '')]));
  const rows = names.map((n) => {
    const a = mine[n], b = tp[n], was = base[n];
    const diff = JSON.stringify(a) !== JSON.stringify(b);
    const show = (x) => esc(/_(at|from|to)$/.test(n) ? utc(x) : x);
    return `<tr class="${diff ? 'diff' : ''}"><td>${esc(labels[n] || words(n))}</td><td>${show(was)}</td><td>${show(a)}</td><td>${show(b)}</td></tr>`;
  }).join('');
  return dialog('Someone changed this item', `<p><b>${esc(tp.updated_by)}</b> saved version ${esc(tp.version)} at ${esc(utc(tp.updated_at))}, after you opened version ${esc(base.version)}. Nothing was overwritten.</p>
    <table class="compare"><tr><th>field</th><th>when you opened it</th><th>your edit</th><th>now on the server</th></tr>${rows}</table>
    <div class="buttons"><button data-act="cancel">Keep editing</button><button data-act="reload">Reload theirs (drop my edit)</button><button class="primary" data-act="mine">Save my changes onto version ${esc(tp.version)}</button></div>`,
  (body, close) => {
    body.querySelector('[data-act=cancel]').addEventListener('click', () => close({ action: 'cancel' }));
    body.querySelector('[data-act=reload]').addEventListener('click', () => {
      put(Object.assign(theirs, { coll }), true);
      renderList();
      close({ action: 'reload' });
    });
    body.querySelector('[data-act=mine]').addEventListener('click', () => close({ action: 'mine', version: tp.version }));
  });
}

export function editShape(key) {
  const f = state.items.get(key), layer = state.layers.get(key);
  if (!f || !layer) return;
  const target = f.coll === 'movements' ? layer.getLayers()[1].getLayers()[0]
    : f.coll === 'zones' ? layer.getLayers()[0] : layer;
  state.editing = { key, version: f.properties.version };
  if (target.pm) target.pm.enable({ allowSelfIntersection: false, draggable: f.coll === 'incidents' });
  if (f.coll === 'incidents') target.dragging && target.dragging.enable();
  const bar = $('banner');
  bar.hidden = false;
  bar.innerHTML = `Editing the shape of “${esc(f.properties.title)}” <button class="small" id="shape-save">Save shape</button> <button class="small" id="shape-cancel">Cancel</button>`;
  const finish = () => {
    if (target.pm) target.pm.disable();
    if (target.dragging) target.dragging.disable();
    state.editing = null;
    bar.hidden = true;
    bar.textContent = '';
  };
  $('shape-cancel').onclick = () => { finish(); put(state.items.get(key), false); };
  $('shape-save').onclick = async () => {
    const geometry = target.toGeoJSON().geometry;
    const version = state.editing.version;
    finish();
    try {
      const { json } = await api('PATCH', `/collections/${f.coll}/items/${f.id}`, { geometry },
        { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + version + '"' });
      put(Object.assign(json, { coll: f.coll }), true);
      renderList();
      toast('Shape saved.');
    } catch (e) {
      if (e.status === 412) {
        const choice = await conflict(f.coll, f.id, { geometry: 'your new shape' }, Object.assign({}, f.properties, { geometry: 'as you opened it' }));
        if (choice.action === 'mine') {
          try {
            const { json } = await api('PATCH', `/collections/${f.coll}/items/${f.id}`, { geometry },
              { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + choice.version + '"' });
            put(Object.assign(json, { coll: f.coll }), true);
            renderList();
          } catch (e2) { toast('Not saved: ' + e2.message); }
        } else {
          put(state.items.get(key), false);
        }
      } else {
        toast('Not saved: ' + e.message);
        put(state.items.get(key), false);
      }
    }
  };
}

/* Acknowledge or dispute the version on screen (If-Match: a later edit
 * needs its own answer). */
export async function ack(key, decision) {
  const f = state.items.get(key);
  if (!f) return;
  let comment = null;
  if (decision === 'dispute') {
    comment = await dialog('Dispute “' + (f.properties.title || '') + '”', `<form class="form" novalidate><label class="wide" data-field="comment">Why? (the other side sees this) *<textarea name="comment" rows="3"></textarea><span class="msg"></span></label></form>
      <div class="buttons"><button data-act="cancel">Cancel</button><button class="primary" data-act="ok">Dispute</button></div>`, (body, close) => {
      body.querySelector('[data-act=cancel]').addEventListener('click', () => close(null));
      body.querySelector('[data-act=ok]').addEventListener('click', () => {
        const v = body.querySelector('textarea').value.trim();
        if (!v) { body.querySelector('.msg').textContent = 'Say what is wrong.'; return; }
        close(v);
      });
      body.querySelector('textarea').focus();
    });
    if (comment === null || comment === false) return;
  }
  try {
    /* signed, after the statement is shown and confirmed (signing.js) */
    const sent = await signedAnswer(f, decision, comment);
    if (!sent) return;
    const { json } = sent;
    if (json && json.type === 'Feature') put(Object.assign(json, { coll: f.coll }), true);
    renderList();
    toast(decision === 'ack' ? 'Acknowledged version ' + f.properties.version + '.' : 'Disputed.');
  } catch (e) {
    toast(e.status === 412 ? 'It changed meanwhile: look at the new version, then answer again.' : 'Not sent: ' + e.message);
    if (e.status === 412) reload();
  }
}

export async function withdraw(key) {
  const f = state.items.get(key);
  if (!f) return;
  const ok = await dialog('Withdraw “' + (f.properties.title || '') + '”?',
    `<p>It disappears from the map for everybody and stays in the history.</p><div class="problem" hidden></div><div class="buttons"><button data-act="cancel">Cancel</button><button class="primary" data-act="ok">Withdraw</button></div>`,
    (body, close) => {
      body.querySelector('[data-act=cancel]').addEventListener('click', () => close(false));
      body.querySelector('[data-act=ok]').addEventListener('click', async () => {
        try {
          await api('DELETE', `/collections/${f.coll}/items/${f.id}`, undefined, { 'If-Match': '"' + f.properties.version + '"' });
          close(true);
        } catch (e) {
          const box = body.querySelector('.problem');
          box.hidden = false;
          box.textContent = e.status === 412 ? 'Someone changed this item meanwhile: look at their version first (it is on the map now).' : e.message;
          if (e.status === 412) reload();
        }
      });
    });
  if (ok) { drop(key); renderList(); toast('Withdrawn.'); }
}
