#!/usr/bin/python3
"""writes.py URL TOKEN_A TOKEN_B N [CONNS] - N creates over HTTP, CONNS (8) clients at once.

Zones (a star of 5-50 vertices), incidents and movements (a walk of 2-30
vertices) in the peer data set's area (lon 35.5..36.5, lat 32.5..33.5),
in the proportions of load_synthetic.py (10:10:2), seed 99, each client
on its own keep-alive connection, by liaisons of A and B in turn. Each
create is one request: validation, the version, the event, the conflict
check and the commit (on disk before the answer). A good answer is 201.

Prints one line: RESULT n secs rps p50_ms p99_ms max_ms bad; when the
server sends Server-Timing (FUSIONMAP_SPLIT=1), then a line SPLIT: where a
create's time went, in ms, the mean over all creates and over the slowest
1% (queue: waiting for the write turn; rows, event, conflicts: the work in
the transaction; commit; sync: waiting for the group sync; other: the rest
of the handler (parsing, auth's lookup, the answer); http: the client's
time outside the handler (microhttpd, the socket, this client))."""
import http.client, json, math, random, sys, threading, time, urllib.parse

url, tokens, n = sys.argv[1], sys.argv[2:4], int(sys.argv[4])
conns = int(sys.argv[5]) if len(sys.argv) > 5 else 8
rnd = random.Random(99)
LON0, LON1, LAT0, LAT1 = 35.5, 36.5, 32.5, 33.5
PROPS = {"valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}


def r7(v):
    return float("%.7f" % v)


def zone(i):
    k = rnd.randint(5, 50)
    r = rnd.uniform(50, 600) / 111320.0
    cx, cy = rnd.uniform(LON0 + 0.01, LON1 - 0.01), rnd.uniform(LAT0 + 0.01, LAT1 - 0.01)
    a0 = rnd.uniform(0, 2 * math.pi)
    pts = []
    for j in range(k):
        a, f = a0 + (j + rnd.uniform(0, 0.9)) * 2 * math.pi / k, rnd.uniform(0.35, 1.0)
        pts.append([r7(cx + r / math.cos(math.radians(cy)) * f * math.cos(a)), r7(cy + r * f * math.sin(a))])
    pts.append(pts[0])
    return "zones", {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [pts]},
                     "properties": dict(PROPS, title="w zone %d" % i, type="buffer", status="proposed")}


def incident(i):
    return "incidents", {"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        r7(rnd.uniform(LON0, LON1)), r7(rnd.uniform(LAT0, LAT1))]},
        "properties": dict(PROPS, title="w pt %d" % i, category="other", severity=1 + i % 5,
                           occurred_at="2026-06-01T00:00:00Z")}


def movement(i):
    x, y, h = rnd.uniform(LON0 + 0.02, LON1 - 0.02), rnd.uniform(LAT0 + 0.02, LAT1 - 0.02), rnd.uniform(0, 6.3)
    pts = [[r7(x), r7(y)]]
    for _ in range(rnd.randint(2, 30) - 1):
        h += rnd.uniform(-0.6, 0.6)
        s = rnd.uniform(0.0005, 0.004)
        x, y = x + s * math.cos(h), y + s * math.sin(h)
        pts.append([r7(x), r7(y)])
    return "movements", {"type": "Feature", "geometry": {"type": "LineString", "coordinates": pts},
                         "properties": dict(PROPS, title="w route %d" % i, type="ground",
                                            corridor_width_m=200 + 100 * (i % 5))}


make = [zone] * 10 + [incident] * 10 + [movement] * 2
items = [make[i % len(make)](i) for i in range(n)]
u = urllib.parse.urlsplit(url)
lock = threading.Lock()
lat, bad, splits = [], [0], []
PARTS = ("pool", "geometry", "queue", "rows", "event", "conflicts", "commit", "sync")


def timing(h):
    if not h:
        return None
    d = {}
    for part in h.split(","):
        name, _, dur = part.strip().partition(";dur=")
        d[name] = float(dur)
    return d


def worker(k):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for i in range(k, n, conns):
        coll, f = items[i]
        body = json.dumps(f)
        t0 = time.perf_counter()
        try:
            c.request("POST", "/collections/%s/items" % coll, body,
                      {"Authorization": "Bearer " + tokens[i % 2], "Content-Type": "application/geo+json"})
            r = c.getresponse()
            text = r.read()
            ok = r.status == 201
            st = timing(r.getheader("Server-Timing"))
        except (OSError, http.client.HTTPException) as e:
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            ok, text, st = False, str(e).encode(), None
        t1 = time.perf_counter()
        with lock:
            lat.append((t1 - t0) * 1000)
            if st:
                splits.append(((t1 - t0) * 1000, st))
            if not ok:
                bad[0] += 1
                if bad[0] <= 3:
                    print("POST %s: %s" % (coll, text[:200]), file=sys.stderr)
    c.close()


t0 = time.perf_counter()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
secs = time.perf_counter() - t0
ms = sorted(lat)


def pct(q):
    return ms[min(len(ms) - 1, int(math.ceil(q / 100 * len(ms))) - 1)]


print("RESULT n=%d secs=%.2f rps=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f bad=%d" % (
    len(ms), secs, len(ms) / secs, pct(50), pct(99), ms[-1], bad[0]))
if splits:
    def row(sel):
        m = {}
        for total, st in sel:
            parts = dict((k, st.get(k, 0.0)) for k in PARTS)
            parts["other"] = st["handler"] - sum(parts.values())
            parts["http"] = total - st["handler"]
            for k, v in parts.items():
                m[k] = m.get(k, 0.0) + v / len(sel)
        return " ".join("%s=%.1f" % (k, m[k]) for k in PARTS + ("other", "http"))
    splits.sort(key=lambda x: x[0])
    tail = splits[-max(1, len(splits) // 100):]
    print("SPLIT all %s" % row(splits))
    print("SPLIT p99+ %s" % row(tail))
