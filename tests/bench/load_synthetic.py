#!/usr/bin/python3
"""load_synthetic.py URL TOKEN_A TOKEN_B TOKEN_SUP [SCALE]

Builds the peer benchmark's synthetic data set (the same generator and seed
as the peer set-up's gen.sh, ../shared/peer-mapserver beside the checkout:
10,000 star-shaped polygons, 10,000 points, 2,000 random-walk lines in lon 35.5-36.5, lat 32.5-33.5) and posts
it into a running fusionmap as zones, incidents and movements over HTTP,
spread over the three parties. SCALE (default 1) divides the counts."""
import http.client, json, math, random, sys, threading, time, urllib.parse

url, tokens, scale = sys.argv[1], sys.argv[2:5], int(sys.argv[5]) if len(sys.argv) > 5 else 1
rnd = random.Random(42)
LON0, LON1, LAT0, LAT1 = 35.5, 36.5, 32.5, 33.5
TYPES = ["residential", "commercial", "industrial", "agricultural", "park", "water"]
STATUS = ["active", "planned", "disputed", "archived"]
PARTY = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
ZONE_TYPE = {"residential": "protected_site", "commercial": "buffer", "industrial": "restricted",
             "agricultural": "buffer", "park": "humanitarian_corridor", "water": "no_fly"}
CATEGORY = ["shelling", "airspace", "mine", "civilian_harm", "movement", "other"]

def attrs():
    return rnd.choice(TYPES), rnd.choice(STATUS), rnd.choice(PARTY)

def clamp(v, a, b):
    return min(max(v, a), b)

def r7(v):
    return float("%.7f" % v)

items = []  # (collection, party index, feature)
def props(title, t, s, p, **kw):
    d = {"title": title, "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}
    d.update(kw)
    return d

for i in range(1, 10001):
    n = rnd.randint(5, 50)
    r = rnd.uniform(50, 600)
    rlat = r / 111320.0
    cx = rnd.uniform(LON0 + 0.01, LON1 - 0.01)
    cy = rnd.uniform(LAT0 + 0.01, LAT1 - 0.01)
    rlon = rlat / math.cos(math.radians(cy))
    a0 = rnd.uniform(0, 2 * math.pi)
    angs = [a0 + (j + rnd.uniform(0.0, 0.9)) * 2 * math.pi / n for j in range(n)]
    pts = []
    for a in angs:
        k = rnd.uniform(0.35, 1.0)
        pts.append([r7(cx + rlon * k * math.cos(a)), r7(cy + rlat * k * math.sin(a))])
    pts.append(pts[0])
    t, s, p = attrs()
    items.append(("zones", i % 3, {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [pts]},
                  "properties": props("zone %d" % i, t, s, p, type=ZONE_TYPE[t],
                                      status="draft" if s == "archived" else "proposed")}))
for i in range(1, 10001):
    x = rnd.uniform(LON0, LON1); y = rnd.uniform(LAT0, LAT1)
    t, s, p = attrs()
    items.append(("incidents", i % 3, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r7(x), r7(y)]},
                  "properties": props("pt-%05d" % i, t, s, p, category=CATEGORY[i % 6], severity=1 + i % 5,
                                      occurred_at="2026-06-01T00:00:00Z")}))
for i in range(1, 2001):
    n = rnd.randint(2, 30)
    x = rnd.uniform(LON0 + 0.02, LON1 - 0.02); y = rnd.uniform(LAT0 + 0.02, LAT1 - 0.02)
    h = rnd.uniform(0, 2 * math.pi)
    pts = [[r7(x), r7(y)]]
    for _ in range(n - 1):
        h += rnd.uniform(-0.6, 0.6)
        step = rnd.uniform(0.0005, 0.004)
        x = clamp(x + step * math.cos(h), LON0, LON1)
        y = clamp(y + step * math.sin(h), LAT0, LAT1)
        pts.append([r7(x), r7(y)])
    if len(pts) < 2 or pts[0] == pts[-1]:
        pts.append([r7(x + 0.001), r7(y)])
    t, s, p = attrs()
    items.append(("movements", i % 3, {"type": "Feature", "geometry": {"type": "LineString", "coordinates": pts},
                  "properties": props("route %d" % i, t, s, p, type="ground", corridor_width_m=200 + 100 * (i % 5))}))
items = items[::scale] if scale > 1 else items

u = urllib.parse.urlsplit(url)
done, failed, lock = [0], [0], threading.Lock()
def worker(part):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for coll, who, f in part:
        body = json.dumps(f)
        conn.request("POST", "/collections/%s/items" % coll, body,
                     {"Authorization": "Bearer " + tokens[who], "Content-Type": "application/geo+json"})
        resp = conn.getresponse()
        text = resp.read()
        with lock:
            if resp.status == 201:
                done[0] += 1
            else:
                failed[0] += 1
                if failed[0] <= 3:
                    print("POST %s: %d %s" % (coll, resp.status, text[:200]), file=sys.stderr)
t0 = time.time()
threads = [threading.Thread(target=worker, args=(items[k::2],)) for k in range(2)]
for th in threads: th.start()
for th in threads: th.join()
print("loaded %d items (%d failed) in %.1f s" % (done[0], failed[0], time.time() - t0))
sys.exit(1 if failed[0] else 0)
