/* session.js - logging in and out, and the start: who I am, the parties,
 * the map, the live stream, then the snapshot. */
import * as FM from '../common.js';
import { state } from './state.js';
import { $ } from './ui.js';
import { initMap } from './map.js';
import { fillFilters } from './list.js';
import { reload, onEvent } from './live.js';
import { keyNotice } from './signing.js';
import { initInbox } from './inbox.js';

const { api } = FM;

export function showLogin(message) {
  if (state.stream) { state.stream.stop(); state.stream = null; }
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  if (location.pathname !== '/login') history.replaceState(null, '', '/login');
  $('login-user').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const user = $('login-user').value.trim(), password = $('login-password').value;
  if (!user || !password) { $('login-error').textContent = 'Enter your user name and password.'; return; }
  try {
    await api('POST', '/login', { user, password });
    $('login-password').value = '';
    history.replaceState(null, '', '/');
    start();
  } catch (e) {
    $('login-error').textContent = e.status === 401 ? 'Wrong user name or password.' : 'Cannot log in: ' + e.message;
  }
});

$('logout').addEventListener('click', async () => {
  try { await api('POST', '/logout'); } catch (e) { /* logged out anyway */ }
  location.href = '/login';
});

export async function start() {
  try {
    state.me = (await api('GET', '/me')).json;
  } catch (e) {
    showLogin(e.status === 401 ? '' : 'The server cannot be reached: ' + e.message);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').textContent = state.me.user + ' · ' + state.me.party + ' · ' + state.me.role;
  try {
    for (const p of (await api('GET', '/parties')).json) state.parties[p.code] = p;
  } catch (e) { /* colours fall back */ }
  try {
    await FM.loadVocabulary();
  } catch (e) {
    showLogin('The server cannot be reached: ' + e.message);
    return;
  }
  fillFilters();
  if (!state.map) initMap();
  /* a signing key of this party this browser has not seen: told now */
  keyNotice().catch((e) => console.warn('keys:', e));
  initInbox();
  /* the stream first, then the snapshot: events that arrive meanwhile
   * wait in a queue and are applied over it (newer versions win) */
  state.loading = true;
  state.stream = FM.stream({
    event: onEvent,
    reset: () => reload(),
    state: (s) => {
      $('conn').className = 'conn ' + s;
      $('conn').textContent = s === 'live' ? 'live' : 'reconnecting…';
      if (s === 'live' && state.wasDown) { state.wasDown = false; }
      if (s !== 'live') state.wasDown = true;
    },
    ended: () => showLogin('Your session has ended. Please log in again.'),
  });
  await reload();
}
