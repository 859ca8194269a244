/* geo.js - positions in the officer's words: a typed or pasted MGRS
 * reference or latitude/longitude (decimal degrees or degrees, minutes,
 * seconds) read into a point, and the distance and true bearing between two
 * points on the WGS 84 ellipsoid (Vincenty's inverse formula). No DOM; MGRS
 * through the mgrs package's browser build (global mgrs, from web/vendor). */

const EXAMPLES = 'MGRS (36S YB 71411 38385) or latitude, longitude (32.85, 35.9 or 32°51\'N 35°54\'E)';

/* Reads text; returns {lat, lon, how: 'MGRS'|'lat/lon'} or {error}. */
export function parsePosition(text) {
  const raw = String(text || '').trim();
  if (!raw) return { error: 'Type a position: ' + EXAMPLES + '.' };
  const compact = raw.replace(/\s+/g, '').toUpperCase();
  /* zone number, band letter, 100 km square: an MGRS reference */
  if (/^\d{1,2}[C-HJ-NP-X][A-HJ-NP-Z]{2}/.test(compact)) return parseMgrs(raw, compact);
  return parseLatLon(raw);
}

function parseMgrs(raw, compact) {
  const m = compact.match(/^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d*)$/);
  if (!m) return { error: `Cannot read “${raw}” as MGRS: after the square (${compact.slice(0, 5)}) come digits only.` };
  if (Number(m[1]) < 1 || Number(m[1]) > 60) return { error: `Cannot read “${raw}” as MGRS: the zone is 1 to 60.` };
  if (m[4].length % 2 || m[4].length > 10) return { error: `Cannot read “${raw}” as MGRS: easting and northing need the same number of digits (up to 5 each).` };
  let lon, lat;
  try {
    [lon, lat] = globalThis.mgrs.toPoint(compact);
  } catch (e) {
    return { error: `Cannot read “${raw}” as MGRS: ${e.message || 'not a valid reference'}.` };
  }
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return { error: `Cannot read “${raw}” as MGRS: not a valid reference.` };
  return { lat, lon, how: 'MGRS' };
}

/* one coordinate: [hemisphere] degrees [minutes [seconds]] [hemisphere] */
const COORD = /^([NSEW])?\s*(-?\d+(?:\.\d+)?)\s*(?:°|\s|(?=[NSEW]|$))\s*(?:(\d+(?:\.\d+)?)\s*(?:'|\s|(?=[NSEW]|$))\s*(?:(\d+(?:\.\d+)?)\s*"?)?)?\s*([NSEW])?$/i;

function parseLatLon(raw) {
  const bad = (why) => ({ error: `Cannot read “${raw}”${why ? ': ' + why : ''}. Type ${EXAMPLES}.` });
  const s = raw.replace(/[′’‘´`]/g, "'").replace(/[″“”]/g, '"').replace(/''/g, '"').replace(/º/g, '°').trim();
  let halves = null;
  if (/[,;]/.test(s)) halves = s.split(/\s*[,;]\s*/);
  else {
    /* "32°51'N 35°54'E" (letter after) or "N32°51' E35°54'" (letter before) */
    const after = s.match(/^(.+?[NS])\s*(.+[EW])$/i) || s.match(/^(.+?[EW])\s*(.+[NS])$/i);
    const before = s.match(/^([NS][^EW]+?)\s*([EW].+)$/i) || s.match(/^([EW][^NS]+?)\s*([NS].+)$/i);
    if (after) halves = [after[1], after[2]];
    else if (before) halves = [before[1], before[2]];
    else {
      const t = s.split(/\s+/);
      if (t.length % 2 === 0 && t.length <= 6) halves = [t.slice(0, t.length / 2).join(' '), t.slice(t.length / 2).join(' ')];
    }
  }
  if (!halves || halves.length !== 2) return bad('two numbers are needed, latitude and longitude');
  const c = [];
  for (const h of halves) {
    const m = h.trim().match(COORD);
    if (!m || (m[1] && m[5])) return bad(`“${h.trim()}” is not a latitude or longitude`);
    const deg = Number(m[2]), min = m[3] === undefined ? 0 : Number(m[3]), sec = m[4] === undefined ? 0 : Number(m[4]);
    if (min >= 60 || sec >= 60) return bad('minutes and seconds are under 60');
    if ((m[3] !== undefined && !Number.isInteger(deg)) || (m[4] !== undefined && !Number.isInteger(min))) return bad('only the last part may have decimals');
    const hemi = (m[1] || m[5] || '').toUpperCase();
    if (hemi && deg < 0) return bad('a minus sign and a hemisphere letter together');
    let v = Math.abs(deg) + min / 60 + sec / 3600;
    if (deg < 0 || /-/.test(m[2]) || hemi === 'S' || hemi === 'W') v = -v;
    c.push({ v, axis: hemi === 'N' || hemi === 'S' ? 'lat' : hemi === 'E' || hemi === 'W' ? 'lon' : '' });
  }
  let [a, b] = c;
  if (a.axis === 'lon' || b.axis === 'lat') [a, b] = [b, a]; /* "35°54'E 32°51'N" */
  if (a.axis === 'lon' || b.axis === 'lat') return bad('one latitude (N/S) and one longitude (E/W)');
  if (Math.abs(a.v) > 90) return bad('a latitude is from -90 to 90 (latitude first, then longitude)');
  if (Math.abs(b.v) > 180) return bad('a longitude is from -180 to 180');
  return { lat: a.v, lon: b.v, how: 'lat/lon' };
}

/* Distance (m) and initial true bearing (degrees, 0-360) from a to b
 * ({lat, lng} or {lat, lon}) along the geodesic on the WGS 84 ellipsoid
 * (Vincenty 1975); a spherical great circle where that does not converge
 * (nearly antipodal points). */
export function inverse(a, b) {
  const rad = Math.PI / 180;
  const A = 6378137, F = 1 / 298.257223563, B = A * (1 - F);
  const lon1 = (a.lng ?? a.lon) * rad, lon2 = (b.lng ?? b.lon) * rad;
  const U1 = Math.atan((1 - F) * Math.tan(a.lat * rad)), U2 = Math.atan((1 - F) * Math.tan(b.lat * rad));
  const sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
  const L0 = lon2 - lon1;
  let lambda = L0, prev, sinS, cosS, sigma, cos2a, cos2sm, sinL, cosL;
  for (let i = 0; i < 200; i++) {
    sinL = Math.sin(lambda), cosL = Math.cos(lambda);
    sinS = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinS === 0) return { m: 0, deg: 0 };
    cosS = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    sigma = Math.atan2(sinS, cosS);
    const sinA = cosU1 * cosU2 * sinL / sinS;
    cos2a = 1 - sinA * sinA;
    cos2sm = cos2a ? cosS - 2 * sinU1 * sinU2 / cos2a : 0;
    const C = F / 16 * cos2a * (4 + F * (4 - 3 * cos2a));
    prev = lambda;
    lambda = L0 + (1 - C) * F * sinA * (sigma + C * sinS * (cos2sm + C * cosS * (-1 + 2 * cos2sm * cos2sm)));
    if (Math.abs(lambda - prev) < 1e-12) {
      const u2 = cos2a * (A * A - B * B) / (B * B);
      const k1 = (Math.sqrt(1 + u2) - 1) / (Math.sqrt(1 + u2) + 1);
      const bigA = (1 + k1 * k1 / 4) / (1 - k1), bigB = k1 * (1 - 3 / 8 * k1 * k1);
      const dS = bigB * sinS * (cos2sm + bigB / 4 * (cosS * (-1 + 2 * cos2sm * cos2sm) -
        bigB / 6 * cos2sm * (-3 + 4 * sinS * sinS) * (-3 + 4 * cos2sm * cos2sm)));
      const az = Math.atan2(cosU2 * Math.sin(lambda), cosU1 * sinU2 - sinU1 * cosU2 * Math.cos(lambda));
      return { m: B * bigA * (sigma - dS), deg: (az / rad + 360) % 360 };
    }
  }
  /* a sphere of the mean radius */
  const p1 = a.lat * rad, p2 = b.lat * rad, dl = L0;
  const h = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  const az = Math.atan2(Math.sin(dl) * Math.cos(p2), Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl));
  return { m: 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h))), deg: (az / rad + 360) % 360 };
}

/* "850 m", "12.34 km" */
export function distanceText(m) {
  return m < 1000 ? Math.round(m) + ' m' : (m / 1000).toFixed(m < 100e3 ? 2 : 1) + ' km';
}

/* "32.85000°N 35.90000°E" */
export function latLonText(lat, lon) {
  const f = (v, p, n) => Math.abs(v).toFixed(5) + '°' + (v >= 0 ? p : n);
  return f(lat, 'N', 'S') + ' ' + f(lon, 'E', 'W');
}

/* "36S YB 71411 38385", or '' outside MGRS (the poles) */
export function mgrsText(lat, lon) {
  try {
    const m = globalThis.mgrs.forward([lon, lat], 5).match(/^(\d{1,2}[A-Z])([A-Z]{2})(\d+)$/);
    return m ? m[1] + ' ' + m[2] + ' ' + m[3].slice(0, m[3].length / 2) + ' ' + m[3].slice(m[3].length / 2) : '';
  } catch (e) {
    return '';
  }
}
