// symbols.mjs - military symbols in the viewer (issue 21): every incident
// and every movement is drawn with its MIL-STD-2525D symbol by milsymbol,
// the symbol set and entity from GET /vocabulary (common/vocabulary.def);
// the frame is friend for the viewer's own party and neutral for every
// other (the cell is not at war with itself: never hostile by default),
// so the same item has a friend frame on its owner's page and a neutral
// one on the other side's; a planned movement is drawn planned, one in
// progress present; and an admin's serve --frame-other hostile changes
// the others' frame, and nothing else.
import path from 'node:path';
import fs from 'node:fs';
import { startServer, tmpdir, loadPlaywright, check, finish } from './harness.mjs';

const { chromium } = await loadPlaywright();
const dir = tmpdir();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const errors = [];
let srv;

async function symbolsAs(url, user) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
  await page.goto(url + '/');
  await page.fill('#login-user', user);
  await page.fill('#login-password', user);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list li');
  await page.waitForSelector('.fm-symbol [data-sidc] svg');
  const got = await page.evaluate(() => {
    const items = [...window.fmState.items.values()].filter((f) => f.coll !== 'zones');
    return {
      items: items.map((f) => ({ key: f.coll + '/' + f.id, party: f.properties.party, status: f.properties.status, coll: f.coll,
        category: f.properties.category, type: f.properties.type })),
      drawn: Object.fromEntries([...document.querySelectorAll('.fm-symbol [data-sidc]')].filter((e) => e.querySelector('svg path, svg text'))
        .map((e) => [e.dataset.key, e.dataset.sidc])),
      vocab: { categories: window.FM.vocab.categories, kinds: window.FM.vocab.movement_kinds },
    };
  });
  await ctx.close();
  return got;
}

try {
  srv = await startServer({ db: path.join(dir, 'symbols.db') });
  const a = await symbolsAs(srv.url, 'liaison-a'), b = await symbolsAs(srv.url, 'liaison-b');
  check('every incident and movement on A\'s page has a milsymbol symbol', a.items.length >= 4 && a.items.every((f) => a.drawn[f.key]),
    JSON.stringify({ items: a.items.map((f) => f.key), drawn: a.drawn }));
  const identity = (sidc) => sidc[3], set = (sidc) => sidc.slice(4, 6), entity = (sidc) => sidc.slice(10, 16), planned = (sidc) => sidc[6] === '1';
  const wrongFrame = [];
  for (const [page, me] of [[a, 'A'], [b, 'B']])
    for (const f of page.items) {
      const want = f.party === me ? '3' : '4';
      if (identity(page.drawn[f.key] || '') !== want) wrongFrame.push(`${me} sees ${f.key} (${f.party}) as ${page.drawn[f.key]}`);
    }
  check('own items have a friend frame (3), every other party\'s a neutral one (4), on both sides\' pages', wrongFrame.length === 0, wrongFrame.join('; '));
  check('no symbol has a hostile frame (6) by default', ![...Object.values(a.drawn), ...Object.values(b.drawn)].some((s) => identity(s) === '6'));
  const wrongCode = [];
  for (const f of a.items) {
    const term = f.coll === 'incidents' ? a.vocab.categories.find((t) => t.name === f.category) : a.vocab.kinds.find((t) => t.name === f.type);
    const s = a.drawn[f.key];
    if (!term || !term.symbol_2525d || set(s) !== term.symbol_2525d.set || entity(s) !== term.symbol_2525d.entity) wrongCode.push(`${f.key}: ${s}`);
    if (f.coll === 'movements' && planned(s) !== (f.status !== 'in_progress' && f.status !== 'completed')) wrongCode.push(`${f.key} (${f.status}) planned? ${s}`);
  }
  check('each symbol is its category\'s or movement kind\'s in /vocabulary (set, entity), movements planned until in progress', wrongCode.length === 0, wrongCode.join('; '));
  const shelling = a.vocab.categories.find((t) => t.name === 'shelling');
  check('shelling is drawn as an explosion (activities 40, 110600), a drone as an unmanned aerial vehicle (air 01, 110300)',
    shelling && shelling.symbol_2525d.set === '40' && shelling.symbol_2525d.entity === '110600' &&
    a.vocab.categories.find((t) => t.name === 'uav').symbol_2525d.entity === '110300');
  await srv.kill();

  srv = await startServer({ db: path.join(dir, 'symbols.db'), demo: false, args: ['--frame-other', 'hostile'] });
  const h = await symbolsAs(srv.url, 'liaison-a');
  const frames = h.items.map((f) => `${f.party}:${identity(h.drawn[f.key] || '')}`);
  check('with serve --frame-other hostile the others\' items are hostile (6) and A\'s own still friend (3)',
    h.items.length >= 4 && h.items.every((f) => identity(h.drawn[f.key] || '') === (f.party === 'A' ? '3' : '6')), frames.join(' '));
  check('no script errors in the pages', errors.length === 0, errors.join('\n'));
} catch (e) {
  check('no exception', false, e.stack + (srv ? '\n' + srv.log().slice(-2000) : ''));
} finally {
  await browser.close();
  if (srv) await srv.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
