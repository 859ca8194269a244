#!/usr/bin/env python3
"""nolink.py - a tile client for tiles_nolink.sh: one kept-alive connection
per client, so that what is measured is the server, not curl starting.

  nolink.py snap URL PATHS OUT NAME=AUTH...
      GETs every path of the file PATHS (one a line) as each client and
      writes OUT: {"NAME": {"PATH": [status, x-tile-cache, etag, sha256]}}.
      AUTH is "bearer:TOKEN" or "cookie:SESSION".
  nolink.py time URL PATHS AUTH
      GETs every path once and prints the median latency in milliseconds.
  nolink.py afterwrite URL PATHS AUTH WRITER_TOKEN ROUNDS VERTICES
      ROUNDS times: one GET of the first path after a pause, then a draft
      zone of VERTICES vertices created by the writer (far from the path's
      tile), and one GET after the same pause; prints the two medians (ms).
"""
import hashlib
import http.client
import json
import math
import statistics
import sys
import time
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def headers_for(auth):
    kind, _, cred = auth.partition(":")
    if kind == "bearer":
        return {"Authorization": "Bearer " + cred}
    if kind == "cookie":
        return {"Cookie": "fm_session=" + cred}
    raise SystemExit("unknown auth " + kind)


def get(conn, path, hdrs):
    conn.request("GET", path, headers=hdrs)
    r = conn.getresponse()
    body = r.read()
    return (r.status, r.getheader("X-Tile-Cache") or "", r.getheader("ETag") or "",
            hashlib.sha256(body).hexdigest())


def main():
    mode, url, paths_file = sys.argv[1:4]
    paths = [p.strip() for p in open(paths_file) if p.strip()]
    if mode == "snap":
        out = {}
        for spec in sys.argv[5:]:
            name, _, auth = spec.partition("=")
            conn, hdrs = connect(url), headers_for(auth)
            out[name] = {p: get(conn, p, hdrs) for p in paths}
            conn.close()
        with open(sys.argv[4], "w") as f:
            json.dump(out, f)
    elif mode == "time":
        conn, hdrs = connect(url), headers_for(sys.argv[4])
        ms = []
        for p in paths:
            t = time.perf_counter()
            get(conn, p, hdrs)
            ms.append((time.perf_counter() - t) * 1000)
        conn.close()
        print("%.3f" % statistics.median(ms))
    elif mode == "afterwrite":
        auth, writer, rounds, n = sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
        conn, hdrs, wconn = connect(url), headers_for(auth), connect(url)
        whdrs = {"Authorization": "Bearer " + writer, "Content-Type": "application/geo+json"}
        get(conn, paths[0], hdrs)
        base, after = [], []
        for i in range(rounds):
            time.sleep(0.05)
            t = time.perf_counter()
            get(conn, paths[0], hdrs)
            base.append((time.perf_counter() - t) * 1000)
            cx, cy = 10 + i * 0.05, 10
            ring = [[cx + 0.01 * math.cos(2 * math.pi * k / n), cy + 0.01 * math.sin(2 * math.pi * k / n)]
                    for k in range(n)]
            ring.append(ring[0])
            body = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"title": "Large draft %d" % i, "type": "restricted", "status": "draft",
                                   "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}}
            wconn.request("POST", "/collections/zones/items", body=json.dumps(body), headers=whdrs)
            r = wconn.getresponse()
            r.read()
            if r.status != 201:
                raise SystemExit("the draft was refused: %d" % r.status)
            time.sleep(0.05)
            t = time.perf_counter()
            get(conn, paths[0], hdrs)
            after.append((time.perf_counter() - t) * 1000)
        print("%.3f %.3f" % (statistics.median(base), statistics.median(after)))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
