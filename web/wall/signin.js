/* signin.js - the wall's way in: /wall?token=T (a viewer-role token). The
 * page moves T out of the address bar at once (history.replaceState),
 * keeps it in this tab's sessionStorage only, and trades it for a session
 * cookie with POST /login/token (Authorization: Bearer T). If the session
 * later ends, it trades the token again. Without a token it uses an
 * existing login. */
import * as FM from '../common.js';
import { $, TOKEN_KEY } from './state.js';

const { api, esc } = FM;

export function takeTokenFromUrl() {
  const u = new URL(location.href);
  const t = u.searchParams.get('token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + (u.search || '') + u.hash);
  }
}

export function gate(msg) {
  $('gate').hidden = false;
  $('gate-msg').innerHTML = esc(msg) + '<br><br>Open <b>/wall?token=…</b> with a viewer token, or <a href="/login">log in</a> first.';
}

export async function signIn() {
  try {
    return (await api('GET', '/me')).json;
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (!t) return null;
  try {
    return (await api('POST', '/login/token', undefined, { Authorization: 'Bearer ' + t })).json;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      gate(e.status === 403 ? 'This token may not open the wall: it must belong to a read-only (viewer) user.' : 'This wall token is not valid any more.');
      return null;
    }
    throw e;
  }
}
