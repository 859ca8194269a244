"""A stream of writes for the durability test: THREADS threads create
incidents and patch them, and append to ACKED every write the server
acknowledged (201/200), as "create ID TITLE" or "patch ID VERSION", the
moment the answer arrives. Runs until the server goes away."""
import json
import sys
import threading
import urllib.error
import urllib.request

base, token, acked_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = threading.Lock()
acked = open(acked_path, "a", buffering=1)


def call(method, path, body, headers):
    h = {"Authorization": "Bearer " + token}
    h.update(headers)
    r = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method, headers=h)
    with urllib.request.urlopen(r, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def work(n):
    i = 0
    while True:
        i += 1
        title = "w%d-%d" % (n, i)
        try:
            st, f = call("POST", "/collections/incidents/items",
                         {"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.7, 32.8]},
                          "properties": {"title": title, "severity": 1}},
                         {"Content-Type": "application/geo+json"})
            if st == 201:
                with lock:
                    acked.write("create %d %s\n" % (f["id"], title))
            st, g = call("PATCH", "/collections/incidents/items/%d" % f["id"],
                         {"properties": {"description": "patched"}},
                         {"Content-Type": "application/merge-patch+json", "If-Match": '"1"'})
            if st == 200:
                with lock:
                    acked.write("patch %d %d\n" % (g["id"], g["properties"]["version"]))
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            return


ts = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
