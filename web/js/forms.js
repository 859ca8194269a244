/* forms.js - the forms of zones, incidents and movements: their fields,
 * defaults, checks before sending, and the form dialog itself. */
import * as FM from '../common.js';
import { dialog } from './ui.js';
import { state } from './state.js';

const { esc, words } = FM;

export const isoLocal = (iso) => (iso ? iso.slice(0, 16) : '');
export const fromLocal = (v) => (v ? v + ':00Z' : undefined);
export const hoursFromNow = (h) => new Date(Date.now() + h * 3600e3).toISOString().slice(0, 16);

/* The statuses the form offers: those a new item may start in, or, for
 * an item in status `from`, that status and the steps this user's role
 * may take from it on its own item (GET /vocabulary's workflow; the
 * server takes exactly those; withdrawal has its own button). */
export function statusChoices(coll, from) {
  const wf = FM.vocab.workflow;
  if (!wf) return FM.STATUSES[coll].filter((s) => s !== 'withdrawn');
  if (!from) return wf[coll].start.slice();
  const role = state.me && wf.roles[state.me.role] ? state.me.role : 'liaison';
  const steps = (wf.roles[role][coll][from] || { own: [] }).own.filter((s) => s !== 'withdrawn');
  return [from, ...steps];
}

export function fieldsFor(coll, from) {
  const common = [
    { name: 'title', label: 'Title', wide: true, required: true, maxlength: 200 },
  ];
  const choices = statusChoices(coll, from);
  const status = { name: 'status', label: 'Status', required: true, options: FM.options('statuses').filter((o) => choices.includes(o.value)) };
  const desc = { name: 'description', label: 'Description', wide: true, textarea: true };
  /* a zone or a movement that cannot wait for the notice period (the
   * rules' urgent_notice_s applies), with the reason the other side reads */
  const urgent = [{ name: 'urgent', label: 'Urgent: less notice', checkbox: true },
    { name: 'urgent_reason', label: 'Why urgent', maxlength: 500 }];
  if (coll === 'zones') return [...common,
    { name: 'type', label: 'Zone type', options: FM.options('zone_types'), required: true }, status,
    { name: 'valid_from', label: 'Valid from (UTC)', time: true, required: true },
    { name: 'valid_to', label: 'Valid to (UTC)', time: true, required: true },
    { name: 'altitude_floor_m', label: 'Altitude floor (m AMSL)', number: true, min: -1000, max: 100000 },
    { name: 'altitude_ceiling_m', label: 'Altitude ceiling (m AMSL)', number: true, min: -1000, max: 100000 }, ...urgent, desc];
  if (coll === 'incidents') return [...common,
    { name: 'category', label: 'Category', options: FM.options('categories'), required: true },
    { name: 'severity', label: 'Severity', options: FM.options('severities'), required: true },
    { name: 'occurred_at', label: 'Occurred at (UTC)', time: true, required: true }, status, desc];
  return [...common,
    { name: 'type', label: 'Movement', options: FM.options('movement_kinds') }, status,
    { name: 'valid_from', label: 'Window from (UTC)', time: true, required: true },
    { name: 'valid_to', label: 'Window to (UTC)', time: true, required: true },
    { name: 'corridor_width_m', label: 'Corridor width (m)', number: true, min: 1, max: 100000, required: true },
    { name: 'altitude_ceiling_m', label: 'Altitude ceiling (m AMSL, air only)', number: true, min: -1000, max: 100000 }, ...urgent, desc];
}

export function defaults(coll) {
  const start = statusChoices(coll)[0];
  if (coll === 'zones') return { type: 'restricted', status: start, valid_from: hoursFromNow(0), valid_to: hoursFromNow(24), altitude_floor_m: 0, altitude_ceiling_m: 3000 };
  if (coll === 'incidents') return { category: 'other', severity: '3', status: start, occurred_at: hoursFromNow(0) };
  return { type: 'ground', status: start, valid_from: hoursFromNow(1), valid_to: hoursFromNow(5), corridor_width_m: 500 };
}

/* Checks a form's values; returns {field: message}. */
export function validate(coll, v) {
  const err = {};
  if (!v.title || !v.title.trim()) err.title = 'Give it a title.';
  for (const f of fieldsFor(coll)) {
    if (f.required && (v[f.name] === undefined || v[f.name] === '')) err[f.name] = err[f.name] || 'Required.';
    if (f.number && v[f.name] !== undefined && v[f.name] !== '') {
      const n = Number(v[f.name]);
      if (!Number.isFinite(n)) err[f.name] = 'A number.';
      else if (n < f.min || n > f.max) err[f.name] = `From ${f.min} to ${f.max}.`;
    }
  }
  if (v.valid_from && v.valid_to && v.valid_to <= v.valid_from) err.valid_to = 'Must be after the start.';
  if (v.altitude_floor_m !== '' && v.altitude_ceiling_m !== '' && v.altitude_floor_m !== undefined && v.altitude_ceiling_m !== undefined &&
      Number(v.altitude_ceiling_m) <= Number(v.altitude_floor_m)) err.altitude_ceiling_m = 'Must be above the floor.';
  if (v.occurred_at && v.occurred_at > hoursFromNow(0.25)) err.occurred_at = 'Cannot be in the future.';
  if (v.urgent === 'true' && !(v.urgent_reason || '').trim()) err.urgent_reason = 'Say why it cannot wait.';
  return err;
}

/* The form's values as GeoJSON properties. A time the person did not
 * touch keeps its seconds (the input shows minutes only). */
export function toProps(coll, v, orig) {
  const p = {};
  for (const f of fieldsFor(coll)) {
    let x = v[f.name];
    if (x === undefined || x === '') continue;
    if (f.checkbox) { if (x !== 'true') continue; x = true; }
    else if (f.time) x = orig && /Z$/.test(orig[f.name] || '') && isoLocal(orig[f.name]) === x ? orig[f.name] : fromLocal(x);
    else if (f.number || f.name === 'severity') x = Number(x);
    p[f.name] = x;
  }
  return p;
}

/* Opens the form; resolves with the properties, or null when cancelled.
 * submit(props) returns null on success or a problem to show. */
export function form(title, coll, values, submit) {
  /* an item being edited has a version: its status is where the steps start */
  const fields = fieldsFor(coll, values.version ? values.status : undefined);
  const html = fields.map((f) => {
    const v = values[f.name] === undefined ? '' : values[f.name];
    let input;
    if (f.options) input = `<select name="${f.name}">${(f.required ? '' : '<option value=""></option>') + f.options.map((o) => (typeof o === 'string' ? { value: o, label: words(o) } : o)).map((o) => `<option value="${esc(o.value)}"${String(v) === o.value ? ' selected' : ''}>${esc(o.label)}</option>`).join('')}</select>`;
    else if (f.textarea) input = `<textarea name="${f.name}" rows="3">${esc(v)}</textarea>`;
    else if (f.checkbox) input = `<input name="${f.name}" type="checkbox" value="true"${v === true || v === 'true' ? ' checked' : ''}>`;
    else input = `<input name="${f.name}" ${f.time ? 'type="datetime-local"' : f.number ? 'type="number" step="any"' : 'type="text"'} value="${esc(f.time ? isoLocal(String(v)) || v : v)}"${f.maxlength ? ` maxlength="${f.maxlength}"` : ''}>`;
    return `<label class="${f.wide ? 'wide' : ''}" data-field="${f.name}">${esc(f.label)}${f.required ? ' *' : ''}${input}<span class="msg"></span></label>`;
  }).join('');
  return dialog(title, `<form class="form" novalidate>${html}</form><div class="problem" hidden></div>
    <div class="buttons"><button type="button" data-act="cancel">Cancel</button><button type="button" class="primary" data-act="save">Save</button></div>`,
  (body, close) => {
    const formEl = body.querySelector('form');
    const read = () => Object.fromEntries([...new FormData(formEl).entries()].map(([k, x]) => [k, String(x)]));
    const show = (errs) => {
      for (const label of formEl.querySelectorAll('label')) {
        const m = errs[label.dataset.field] || '';
        label.querySelector('.msg').textContent = m;
        label.querySelector('input,select,textarea').classList.toggle('invalid', !!m);
      }
    };
    const box = body.querySelector('.problem');
    const clearProblem = () => { box.hidden = true; box.textContent = ''; };
    /* a changed field loses its message, and the server's last answer
     * goes: it was about the values before this change */
    const changed = (ev) => {
      const label = ev.target.closest('label[data-field]');
      if (label) {
        label.querySelector('.msg').textContent = '';
        ev.target.classList.remove('invalid');
      }
      clearProblem();
    };
    formEl.addEventListener('input', changed);
    formEl.addEventListener('change', changed);
    const save = async () => {
      const v = read();
      const errs = validate(coll, v);
      clearProblem();
      show(errs);
      if (Object.keys(errs).length) return;
      const btn = body.querySelector('[data-act=save]');
      btn.disabled = true;
      const problem = await submit(toProps(coll, v, values));
      btn.disabled = false;
      if (!problem) return close(true);
      box.hidden = false;
      box.textContent = problem.message;
      const ptr = problem.problem && problem.problem.pointer;
      const m = ptr && ptr.match(/^\/properties\/(\w+)/);
      show(m ? { [m[1]]: problem.message } : {});
    };
    body.querySelector('[data-act=save]').addEventListener('click', save);
    formEl.addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
    body.querySelector('[data-act=cancel]').addEventListener('click', () => close(false));
    const first = formEl.querySelector('input,select');
    if (first) first.focus();
  });
}
