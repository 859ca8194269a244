#!/usr/bin/env python3
"""nolink.py - a tile client for tiles_nolink.sh: one kept-alive connection
per client, so that what is measured is the server, not curl starting.

  nolink.py snap URL PATHS OUT NAME=AUTH...
      GETs every path of the file PATHS (one a line) as each client and
      writes OUT: {"NAME": {"PATH": [status, x-tile-cache, etag, sha256]}}.
      AUTH is "bearer:TOKEN" or "cookie:SESSION".
  nolink.py time URL PATHS AUTH
      GETs every path once and prints the median latency in milliseconds.
"""
import hashlib
import http.client
import json
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
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
