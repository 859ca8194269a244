/* symbols.js - MIL-STD-2525D / APP-6(D) symbols for incidents and
 * movements, drawn by milsymbol (web/vendor). The symbol set and entity of
 * each incident category and movement kind come from GET /vocabulary
 * (symbol_2525d, from common/vocabulary.def); the frame says who is
 * looking: friend for the viewer's own party, for every other party the
 * frame the server names (vocabulary.frames.others: neutral unless the
 * admin chose another with serve --frame-other). Colour stays the party's,
 * as on every other channel; a disputed item gets a red outline. */
import * as FM from '../common.js';

/* The 20-digit SIDC: version 10, reality, identity, set, status
 * (0 present, 1 planned), no HQ or echelon, entity, no modifiers. */
export function sidcOf(f, myParty) {
  const p = f.properties;
  const list = f.coll === 'incidents' ? FM.vocab.categories : FM.vocab.movement_kinds;
  const key = f.coll === 'incidents' ? p.category : p.type;
  const term = (list || []).find((t) => t.name === key) || (list || []).find((t) => t.name === 'other');
  const sym = (term && term.symbol_2525d) || { set: f.coll === 'incidents' ? '40' : '10', entity: f.coll === 'incidents' ? '110000' : '000000' };
  const frames = FM.vocab.frames || { own: { code: '3' }, others: { code: '4' } };
  const identity = p.party && p.party === myParty ? frames.own.code : frames.others.code;
  const planned = f.coll === 'movements' && p.status !== 'in_progress' && p.status !== 'completed';
  return '100' + identity + sym.set + (planned ? '1' : '0') + '000' + sym.entity + '0000';
}

/* The marks of lead times and deadlines (rules.c) on a symbol, as the
 * server's tiles draw them: an amber dashed ring when its answer is
 * overdue, a purple clock at its upper right when it was notified late. */
export const LATE_COLOUR = '#8f29c2', OVERDUE_COLOUR = '#ff9f1c';
/* the clock, px pixels square (inner: its shapes only, 20 units square) */
export function clockSvg(px, inner) {
  const shapes = `<circle cx="10" cy="10" r="8" fill="#fff" stroke="${LATE_COLOUR}" stroke-width="3"/>` +
    `<path d="M10 5V10L13.6 11.2" fill="none" stroke="${LATE_COLOUR}" stroke-width="2.2" stroke-linecap="round"/>`;
  return inner ? shapes : `<svg width="${px}" height="${px}" viewBox="0 0 20 20" aria-hidden="true">${shapes}</svg>`;
}
export function marksOf(f) {
  const p = f.properties;
  return { overdue: !!p.overdue && p.status !== 'draft', late: !!p.late_notice && p.status !== 'draft' };
}

/* A Leaflet icon of the item's symbol, size pixels high, in its party's colour. */
export function symbolIcon(f, myParty, colour, size, className) {
  const disputed = f.properties.status === 'disputed';
  const opts = { size, fillColor: colour, fillOpacity: 0.85, frameColor: '#1b1b1b', iconColor: '#1b1b1b', square: false };
  if (disputed) Object.assign(opts, { outlineColor: '#c92a2a', outlineWidth: 5 });
  const sidc = sidcOf(f, myParty);
  const s = new ms.Symbol(sidc, opts);
  const a = s.getAnchor(), d = s.getSize();
  const m = marksOf(f), r = Math.max(d.width, d.height) / 2 + 5;
  const ring = m.overdue ? `<span class="fm-overdue-ring" title="answer overdue" style="left:${a.x - r}px;top:${a.y - r}px;width:${2 * r}px;height:${2 * r}px"></span>` : '';
  const clock = m.late ? `<span class="fm-late-badge" title="late notice" style="left:${d.width - 6}px;top:-8px">${clockSvg(16)}</span>` : '';
  return L.divIcon({
    className: className + ' fm-symbol' + (m.overdue ? ' fm-overdue' : '') + (m.late ? ' fm-late' : ''),
    html: `<span class="fm-sym" data-sidc="${sidc}" data-key="${f.coll}/${f.id}">${ring}${s.asSVG()}${clock}</span>`,
    iconSize: [d.width, d.height], iconAnchor: [a.x, a.y],
  });
}

/* A legend swatch: the symbol of set and entity with frame identity
 * ('3' friend, '4' neutral...), planned or not, size pixels high. */
export function symbolSwatch(set, entity, identity, planned, colour, size) {
  const sidc = '100' + identity + set + (planned ? '1' : '0') + '000' + entity + '0000';
  return new ms.Symbol(sidc, { size, fillColor: colour, fillOpacity: 0.85, frameColor: '#1b1b1b', iconColor: '#1b1b1b' }).asSVG();
}
