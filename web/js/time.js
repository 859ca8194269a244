/* time.js - the time slider: the situation as of a past or a planned
 * time. */
import * as FM from '../common.js';
import { state, isAhead, canDraw, tq } from './state.js';
import { $ } from './ui.js';
import { reload } from './live.js';

const { utc } = FM;

/* Steps that fit the distance from now (FM.timeline: 5 min near now, days
 * far away), 30 days back and 14 days ahead; position 0 is now. Back: the
 * record as it was then. Ahead: today's record at that time, so what is
 * planned shows, and what is not yet in force is drawn dotted. */
export const slider = $('time-slider');
slider.min = FM.timeline.min;
slider.max = FM.timeline.max;
slider.value = 0;
$('time-track').style.setProperty('--now', String(-FM.timeline.min / (FM.timeline.max - FM.timeline.min)));
export function sliderTime() { return FM.timeline.at(Number(slider.value)); }
export function timeLabel(t) {
  if (!t) return 'now (live)';
  const d = FM.timeline.offsetAt(Number(slider.value)) || Date.parse(t) - Date.now(); /* the step, not the seconds since */
  return d > 0 ? utc(t) + ' · in ' + FM.span(d) : 'as of ' + utc(t) + ' · ' + FM.span(d) + ' ago';
}
slider.addEventListener('input', () => { $('time-label').textContent = timeLabel(sliderTime()); });
slider.addEventListener('change', () => setAsOf(sliderTime()));
$('time-now').addEventListener('click', () => { slider.value = 0; setAsOf(null); });

export function setAsOf(t) {
  state.asOf = t;
  state.missed = 0;
  const ahead = isAhead();
  $('asof').classList.toggle('past', !!t && !ahead);
  $('asof').classList.toggle('ahead', ahead);
  $('time-label').textContent = timeLabel(t);
  $('time-now').hidden = !t;
  $('banner').hidden = !t;
  $('banner').textContent = !t ? '' : ahead ? `Planned: ${utc(t)} · read only · dotted: not yet in force`
    : `Situation as of ${utc(t)} · read only`;
  if (state.baseLayer) state.baseLayer.setUrl('/tiles/basemap/{z}/{x}/{y}.png' + tq());
  if (state.allLayer) state.allLayer.setUrl('/tiles/all/{z}/{x}/{y}.png' + tq());
  if (state.map.pm && canDraw()) {
    if (t) { state.map.pm.disableDraw(); state.map.pm.removeControls(); } else state.map.pm.addControls();
  }
  if (!state.helpText) state.helpText = $('help').textContent;
  $('help').textContent = t ? (ahead ? 'Looking ahead' : 'Looking back') + ': read only. Drag the slider to the yellow mark (now), or press Back to now, to edit.' : state.helpText;
  reload();
}
