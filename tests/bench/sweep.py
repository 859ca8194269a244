#!/usr/bin/python3
"""sweep.py KIND BASE ZOOM [CONNS] - every tile of a zoom exactly once.

The tiles covering lon 35.5..36.5 / lat 32.5..33.5 at ZOOM (the peer's
tile set: 20 at z10, 182 at z12, 2,585 at z14), shuffled (seed 1234),
requested CONNS (16) at a time over keep-alive connections, each tile
once. Meant to run right after the server starts: what a wall of
browsers meets when they all reconnect after a restart.

KIND fm: GET BASE/tiles/all/Z/X/Y.png with "Authorization: Bearer
$FM_TOKEN". KIND ms: the same tile as a WMS 1.1.1 GetMap from MapServer
(BASE/fcgi/mapserv?map=PEER&..., EPSG:3857 256x256 PNG, the peer's
lua/tiles.lua URL). A response counts as good with status 200 and an
image/png body.

Prints one line: RESULT tiles=N secs=S rps=R p50_ms p99_ms max_ms first_ms
avg_body bad (first_ms: the latency of the first response to arrive)."""
import http.client, math, os, random, sys, threading, time, urllib.parse

kind, base, zoom = sys.argv[1], sys.argv[2], int(sys.argv[3])
conns = int(sys.argv[4]) if len(sys.argv) > 4 else 16
HALF = 20037508.342789244


def tx(lon, z):
    return math.floor((lon + 180) / 360 * 2 ** z)


def ty(lat, z):
    r = math.radians(lat)
    return math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** z)


def path(x, y, z):
    if kind == "fm":
        return "/tiles/all/%d/%d/%d.png" % (z, x, y)
    size = 2 * HALF / 2 ** z
    minx, maxy = -HALF + x * size, HALF - y * size
    return ("/fcgi/mapserv?map=PEER&SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap"
            "&LAYERS=polygons,lines,points&STYLES=&SRS=EPSG:3857"
            "&BBOX=%.4f,%.4f,%.4f,%.4f&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE"
            % (minx, maxy - size, minx + size, maxy))


paths = [path(x, y, zoom) for x in range(tx(35.5, zoom), tx(36.5, zoom) + 1)
         for y in range(ty(33.5, zoom), ty(32.5, zoom) + 1)]
random.Random(1234).shuffle(paths)
u = urllib.parse.urlsplit(base)
headers = {"Authorization": "Bearer " + os.environ["FM_TOKEN"]} if kind == "fm" else {}

lock = threading.Lock()
todo = iter(paths)
lat, sizes, bad = [], [], [0]


def worker():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    while True:
        with lock:
            p = next(todo, None)
        if p is None:
            break
        t0 = time.perf_counter()
        try:
            c.request("GET", p, headers=headers)
            r = c.getresponse()
            body = r.read()
            ok = r.status == 200 and "image/png" in (r.getheader("Content-Type") or "")
        except (OSError, http.client.HTTPException):
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            body, ok = b"", False
        t1 = time.perf_counter()
        with lock:
            lat.append((t1, (t1 - t0) * 1000))
            sizes.append(len(body))
            if not ok:
                bad[0] += 1
    c.close()


t_start = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
secs = time.perf_counter() - t_start
ms = sorted(x[1] for x in lat)


def pct(q):
    return ms[min(len(ms) - 1, int(math.ceil(q / 100 * len(ms))) - 1)]


first = min(lat)[1]
print("RESULT tiles=%d secs=%.2f rps=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f first_ms=%.1f"
      " avg_body=%d bad=%d" % (len(ms), secs, len(ms) / secs, pct(50), pct(99), ms[-1], first,
                               sum(sizes) // max(1, len(sizes)), bad[0]))
