/* legend.js - the viewer's legend, a map control (bottom left, above the
 * cursor's position) opened and closed with its button: what the colours
 * (the parties, from GET /parties), the fill patterns (zone types), the
 * line styles (statuses) and the symbols (incident categories) mean.
 *
 * The patterns, lines and symbols are those the server draws (the layer
 * "Server rendering", the tiles and /map.png), as GET /vocabulary serves
 * them (tests/browser/tools.mjs holds the legend to it). The shapes this page draws itself (party colour,
 * dashes for a draft, dots for what is not yet in force) have their own
 * section. */
import * as FM from '../common.js';
import { state, colour } from './state.js';
import { symbolSwatch as milSwatch, clockSvg, LATE_COLOUR, OVERDUE_COLOUR } from './symbols.js';

const { esc, words } = FM;

/* The looks come from GET /vocabulary (FM.vocab), built from the list the
 * tile styles are built from (common/vocabulary.def): zone types with
 * their fill pattern, statuses with their line, categories with their
 * symbol. A value outside the vocabulary (written before it was checked)
 * is drawn as the default rows below, as tiles/style.c draws it. */
const DEFAULT_ZONE = { pattern: 'solid', fill_alpha: 0.18 };

const GREY = '#595966'; /* style.c's legend grey (0.35, 0.35, 0.4) */
const RED = '#d90d0d'; /* style_disputed */

/* SVG swatches, 32 x 20, drawn as render.c's legend_swatch draws them */
const W = 32, H = 20;
const svg = (inner, defs = '') => `<svg class="sw" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" aria-hidden="true">${defs ? '<defs>' + defs + '</defs>' : ''}${inner}</svg>`;
let uid = 0;
function zoneSwatch(pattern, alpha) {
  const box = `x="1" y="1" width="${W - 2}" height="${H - 2}"`;
  if (pattern === 'solid') return svg(`<rect ${box} fill="${GREY}" fill-opacity="${alpha * 0.7}" stroke="${GREY}"/>`);
  const id = 'fm-pat-' + (++uid), n = pattern === 'stripes_wide' ? 16 : 10;
  const lw = pattern === 'stripes_wide' ? 4 : 1.3;
  const line = (x1, y1, x2, y2) => `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${GREY}" stroke-opacity="${alpha}" stroke-width="${lw}"/>`;
  const tile = pattern === 'dots' ? `<circle cx="${n / 2}" cy="${n / 2}" r="1.4" fill="${GREY}" fill-opacity="${alpha}"/>`
    : pattern === 'crosshatch' ? line(0, n, n, 0) + line(0, 0, n, n)
      : line(-n / 2, n / 2, n / 2, -n / 2) + line(0, n, n, 0) + line(n / 2, n * 1.5, n * 1.5, n / 2);
  return svg(`<rect ${box} fill="url(#${id})" stroke="${GREY}"/>`,
    `<pattern id="${id}" width="${n}" height="${n}" patternUnits="userSpaceOnUse">${tile}</pattern>`);
}
function lineSwatch(s) {
  const [, line, alpha, disputed] = s;
  const y = H / 2;
  const dash = line === 'dotted' ? ' stroke-dasharray="0.1 4" stroke-linecap="round"' : line === 'dashed' ? ' stroke-dasharray="6 4"' : '';
  return svg((disputed ? `<line x1="0" y1="${y}" x2="${W}" y2="${y}" stroke="${RED}" stroke-width="5"/>` : '') +
    `<line x1="0" y1="${y}" x2="${W}" y2="${y}" stroke="${GREY}" stroke-opacity="${alpha}" stroke-width="2"${dash}/>`);
}
/* tiles/draw.c symbol_path, radius r about (cx, cy) */
function symbolPath(shape, cx, cy, r) {
  const pts = (list) => 'M' + list.map(([x, y]) => (cx + x).toFixed(2) + ',' + (cy + y).toFixed(2)).join('L') + 'Z';
  switch (shape) {
    case 'star': {
      const p = [];
      for (let i = 0; i < 16; i++) { const a = -Math.PI / 2 + i * Math.PI / 8, rr = i % 2 ? r * 0.55 : r * 1.15; p.push([rr * Math.cos(a), rr * Math.sin(a)]); }
      return pts(p);
    }
    case 'triangle': return pts([[0, -r * 1.15], [r * 1.05, r * 0.75], [-r * 1.05, r * 0.75]]);
    case 'square': return pts([[-r * 0.85, -r * 0.85], [r * 0.85, -r * 0.85], [r * 0.85, r * 0.85], [-r * 0.85, r * 0.85]]);
    case 'diamond': return pts([[0, -r * 1.15], [r * 1.15, 0], [0, r * 1.15], [-r * 1.15, 0]]);
    case 'cross': {
      const t = r * 0.38;
      return pts([[-t, -r], [t, -r], [t, -t], [r, -t], [r, t], [t, t], [t, r], [-t, r], [-t, t], [-r, t], [-r, -t], [-t, -t]]);
    }
    default: return `M${cx + r},${cy}A${r},${r} 0 1,1 ${cx - r},${cy}A${r},${r} 0 1,1 ${cx + r},${cy}Z`;
  }
}
const symbolSwatch = (shape) => svg(`<path d="${symbolPath(shape, W / 2, H / 2, 7)}" fill="${GREY}" stroke="#fff" stroke-width="1.2"/>`);

/* statuses drawn alike share a row, as in render.c's legend: "proposed / notified: dashed" */
export function statusRows() {
  const rows = [], done = new Set(), st = FM.vocab.statuses;
  st.forEach((a, i) => {
    if (done.has(i)) return;
    const names = [a.name];
    let text = a.label;
    for (let j = i + 1; j < st.length; j++) {
      const b = st[j];
      if (b.line !== a.line || b.disputed !== a.disputed || b.draft !== a.draft || (b.alpha < 1) !== (a.alpha < 1) || text.length >= 60) continue;
      done.add(j);
      names.push(b.name);
      text += ' / ' + b.label;
    }
    const how = a.draft ? 'dotted, own side only' : a.disputed ? 'red hatched outline' : a.alpha < 1 ? 'faded' : a.line === 'dashed' ? 'dashed' : 'solid';
    rows.push({ names, text: text + ': ' + how, swatch: lineSwatch([a.name, a.line, a.alpha, a.disputed]) });
  });
  return rows;
}

/* this page's own drawing (items.js makeLayer, conflicts.js) */
function viewerRows() {
  const c = '#3b6ea5';
  const zone = (attrs, stroke = c, width = 2) => svg(`<rect x="2" y="3" width="${W - 4}" height="${H - 6}" stroke="${stroke}" stroke-width="${width}" fill="${c}" ${attrs}/>`);
  return [
    [zone('fill-opacity="0.14"'), 'zone in force: its party\'s colour'],
    [zone('fill-opacity="0.05" stroke-dasharray="6 5"'), 'draft: dashed (own side only)'],
    [zone('fill-opacity="0.05" stroke-dasharray="2 6" stroke-opacity="0.55"'), 'not yet in force: dotted and light'],
    [zone('fill-opacity="0.07" stroke-opacity="0.35"'), 'window over: faded'],
    [zone('fill-opacity="0.14"', '#c92a2a', 3), 'disputed: red outline'],
    [milSwatch('40', '110000', '3', false, c, 14), 'incident: its 2525D symbol, the bigger the more severe (1 to 5)'],
    [svg(`<line x1="1" y1="${H / 2}" x2="${W - 1}" y2="${H / 2}" stroke="${c}" stroke-opacity="0.18" stroke-width="10" stroke-linecap="round"/>` +
      `<line x1="1" y1="${H / 2}" x2="${W - 1}" y2="${H / 2}" stroke="${c}" stroke-width="3" stroke-dasharray="10 6"/>`), 'movement: route, corridor to scale (solid: in progress)'],
    [svg(`<rect x="2" y="3" width="${W - 4}" height="${H - 6}" stroke="#c92a2a" stroke-width="3" fill="#c92a2a" fill-opacity="0.35" stroke-dasharray="2 4"/>`), 'conflict found by the server: red'],
    [svg(`<line x1="1" y1="${H / 2}" x2="${W - 1}" y2="${H / 2}" stroke="${c}" stroke-width="2"/>` +
      `<line x1="1" y1="${H / 2}" x2="${W - 1}" y2="${H / 2}" stroke="${OVERDUE_COLOUR}" stroke-width="4" stroke-dasharray="8 5"/>`), 'overdue: its answer is late (amber dashes; a ring around a symbol)', ' data-mark="overdue"'],
    [svg(`<line x1="4" y1="${H / 2}" x2="${W - 12}" y2="${H / 2}" stroke="${LATE_COLOUR}" stroke-width="7" stroke-dasharray="0.1 11" stroke-linecap="round"/>` +
      `<line x1="1" y1="${H / 2}" x2="${W - 12}" y2="${H / 2}" stroke="${c}" stroke-width="2"/>` +
      `<g transform="translate(${W - 12} 4) scale(0.6)">${clockSvg(0, true)}</g>`), 'late notice: notified with less notice than the rules ask (purple beads; a clock on a symbol)', ' data-mark="late"'],
  ];
}

function html() {
  const parties = Object.values(state.parties);
  const row = (sw, text, attrs = '') => `<li${attrs}>${sw}<span>${esc(text)}</span></li>`;
  /* categories drawn alike share a row: "shelling / artillery / small-arms fire: star" */
  const symbols = [];
  for (const c of FM.vocab.categories) {
    const row = symbols.find((r) => r.symbol === c.symbol);
    if (row) row.labels.push(c.label), row.names.push(c.name);
    else symbols.push({ symbol: c.symbol, labels: [c.label], names: [c.name] });
  }
  return `<h3>Parties <small>(colour)</small></h3><ul>` +
    (parties.length ? parties.map((p) => row(`<span class="party-sw" style="background:${esc(colour(p.code))}"></span>`, p.name + ' (' + p.code + ')',
      ` data-party="${esc(p.code)}" data-colour="${esc(colour(p.code))}"`)).join('') : '<li class="none">(the server named none)</li>') + '</ul>' +
    `<h3>On this map</h3><ul>${viewerRows().map(([sw, t, attrs]) => row(sw, t, attrs)).join('')}</ul>` +
    `<p class="note">Server rendering (layer “Server rendering”, briefing images):</p>` +
    `<h3>Zone types <small>(fill pattern)</small></h3><ul>` +
    FM.vocab.zone_types.map((z) => row(zoneSwatch(z.pattern || DEFAULT_ZONE.pattern, z.fill_alpha || DEFAULT_ZONE.fill_alpha), z.legend || words(z.name),
      ` data-zone-type="${esc(z.name)}" data-pattern="${esc(z.pattern)}"`)).join('') + '</ul>' +
    `<h3>Status <small>(line style)</small></h3><ul>` +
    statusRows().map((r) => row(r.swatch, r.text, ` data-statuses="${esc(r.names.join(' '))}"`)).join('') + '</ul>' +
    `<h3>Incidents <small>(symbol; size: severity)</small></h3><ul>` +
    symbols.map((r) => row(symbolSwatch(r.symbol), r.labels.join(' / ') + ': ' + r.symbol, ` data-symbol="${esc(r.symbol)}" data-categories="${esc(r.names.join(' '))}"`)).join('') + '</ul>' +
    militaryRows(row);
}

/* The viewer's MIL-STD-2525D symbols (symbols.js): what the frames mean,
 * and each category's and movement kind's symbol. */
function militaryRows(row) {
  const f = FM.vocab.frames || { own: { identity: 'friend', code: '3' }, others: { identity: 'neutral', code: '4' } };
  const c = '#3b6ea5', sw = (t, id, planned) => t.symbol_2525d ? milSwatch(t.symbol_2525d.set, t.symbol_2525d.entity, id, planned, c, 18) : '';
  const land = { symbol_2525d: { set: '10', entity: '000000' } };
  return `<h3>Military symbols <small>(MIL-STD-2525D / APP-6 on this map)</small></h3><ul>` +
    row(sw(land, f.own.code, false), `${f.own.identity} frame: your own party's`, ' data-frame="own"') +
    row(sw(land, f.others.code, false), `${f.others.identity} frame: every other party's (the supervisor's too)`, ' data-frame="others"') +
    row(sw(land, f.own.code, true), 'dashed frame: a planned movement (solid once in progress)') +
    FM.vocab.categories.map((t) => row(sw(t, f.own.code, false), t.label, ` data-sidc-category="${esc(t.name)}"`)).join('') +
    FM.vocab.movement_kinds.map((t) => row(sw(t, f.own.code, false), 'movement: ' + t.label, ` data-sidc-kind="${esc(t.name)}"`)).join('') + '</ul>';
}

/* Adds the legend to the map, closed or as the user left it last. */
export function addLegend(map) {
  const Legend = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd() {
      const div = L.DomUtil.create('div', 'fm-legend leaflet-bar');
      div.innerHTML = '<button type="button" id="legend-toggle" class="toggle" aria-expanded="false" aria-controls="legend-body">Legend</button>' +
        '<div id="legend-body" class="body" hidden></div>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      const body = div.querySelector('.body'), btn = div.querySelector('.toggle');
      const show = (open) => {
        if (open) body.innerHTML = html();
        body.hidden = !open;
        btn.setAttribute('aria-expanded', String(open));
        btn.textContent = open ? 'Legend ▾' : 'Legend ▸';
        try { localStorage.setItem('fm_legend', open ? '1' : '0'); } catch (e) { /* private mode */ }
      };
      btn.addEventListener('click', () => show(body.hidden));
      let open = false;
      try { open = localStorage.getItem('fm_legend') === '1'; } catch (e) { /* closed */ }
      show(open);
      return div;
    },
  });
  new Legend().addTo(map);
}
