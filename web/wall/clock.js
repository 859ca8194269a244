/* clock.js - the wall's clocks (UTC, local, date) and, while the stream is
 * down, how old the picture is. */
import { $, wall } from './state.js';

export function tick() {
  const d = new Date();
  $('utc').textContent = d.toISOString().slice(11, 19);
  $('local').textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  $('date').textContent = d.toISOString().slice(0, 10);
  if (!tick.zone) { tick.zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local'; $('localzone').textContent = tick.zone === 'UTC' ? 'local (UTC)' : tick.zone; }
  if (wall.downSince) {
    const s = Math.round((Date.now() - wall.downSince) / 1000);
    $('stale').textContent = `RECONNECTING… picture as of ${wall.lastUpdate ? wall.lastUpdate.toISOString().slice(11, 19) + ' UTC' : 'start'} (${s} s)`;
  }
}
