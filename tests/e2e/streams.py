"""The live event stream's guarantees, against the real server on 127.0.0.1.

    streams.py BASE_URL DB_PATH SERVER_PID PART

PART is one of:
  resume    a log of some 5,000 events (drafts of A that B may not see, drafts
            of B that it may, published items); B's stream resumed from 0 and
            from random points (seed printed; FM_SEED repeats) receives exactly
            what B's /events/log holds after that point, ids and data, in order
  logout    a logout ends that session's stream within 1 s and nothing written
            after it is delivered; a role changed in the database ends the
            user's stream at the next poll (~1 s), not the next heartbeat
  horizon   (on a server with FM_STREAM_HORIZON=1000) a client further behind
            gets event: reset first, one within it every event
  slow      500 streams whose clients never read (tiny SO_RCVBUF, never recv):
            the server's RSS stays under a bound and the p50 latency of a write
            stays within 2x (+5 ms) of the same without them (60 writes before
            and 60 after); a dropped stream resumes with Last-Event-ID and
            misses nothing

Prints "ok - ..." / "FAIL - ..." lines; exit status 1 on any failure.
"""
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

BASE, DB, PID, PART = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
U = urllib.parse.urlparse(BASE)
HOST, PORT = U.hostname, U.port
SANITIZED = bool(os.environ.get("FM_SANITIZED"))
stall_s = int(os.environ.get("FM_STREAM_STALL_MS", "10000")) / 1000
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok - " if ok else "FAIL - ") + name + ("" if ok or not detail else "\n    " + str(detail)[:2000]),
          flush=True)
    if not ok:
        failed += 1


# ---- plain HTTP/1.1 over a socket ----------------------------------------

class Conn:
    """One keep-alive connection; request() returns (status, headers, body)."""

    def __init__(self):
        self.s = socket.create_connection((HOST, PORT), timeout=30)
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def request(self, method, path, body=None, headers=None):
        h = {"Host": "%s:%d" % (HOST, PORT)}
        h.update(headers or {})
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
            h["Content-Length"] = str(len(data))
        head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items())
        self.s.sendall(head.encode() + b"\r\n" + data)
        status = int(self._line().split(b" ")[1])
        hdrs = {}
        while True:
            line = self._line()
            if not line:
                break
            k, v = line.decode().split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        if "content-length" in hdrs:
            payload = self._take(int(hdrs["content-length"][0]))
        elif "chunked" in ",".join(hdrs.get("transfer-encoding", [])):
            payload = b""
            while True:
                n = int(self._line().split(b";")[0], 16)
                if n == 0:
                    self._line()
                    break
                payload += self._take(n)
                self._line()
        else:
            payload = b""
        return status, hdrs, payload

    def close(self):
        self.s.close()


def call(method, path, body=None, auth=None, headers=None):
    c = Conn()
    try:
        h = dict(headers or {})
        if auth:
            h.update(auth)
        st, hd, b = c.request(method, path, body, h)
        return st, hd, (json.loads(b) if b and b[:1] in b"{[" else b)
    finally:
        c.close()


def login(user):
    st, hd, _ = call("POST", "/login", {"user": user, "password": user})
    assert st == 200, (user, st)
    for sc in hd.get("set-cookie", []):
        if sc.startswith("fm_session="):
            sid = sc.split(";", 1)[0]
            return {"Cookie": sid, "X-Requested-With": "fusionmap"}
    raise AssertionError("no session cookie")


def token(user):
    t = subprocess.run([os.environ["FUSIONMAP"], "token", "add", user, "--db", DB], capture_output=True,
                       text=True, check=True).stdout.strip()
    return {"Authorization": "Bearer " + t}


def rss_kb():
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- a Server-Sent Events reader ------------------------------------------

class Sse:
    """GET /events on a socket; events() yields dicts {event,id,data} as they
    come; ended is set when the server closes the stream."""

    def __init__(self, auth, last_id=None, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect((HOST, PORT))
        h = {"Host": "%s:%d" % (HOST, PORT), "Accept": "text/event-stream"}
        h.update(auth)
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.s.sendall(("GET /events HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items()) +
                        "\r\n").encode())
        self.raw = b""
        self.body = b""
        self.status = None
        self.chunked = False
        self.ended = False
        self.clean_end = False
        self.events = []

    def _recv(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(1 << 16)
        except socket.timeout:
            return None
        except ConnectionError:
            d = b""
        if not d:
            self.ended = True
        self.raw += d
        return d

    def _parse(self):
        if self.status is None:
            if b"\r\n\r\n" not in self.raw:
                return
            head, self.raw = self.raw.split(b"\r\n\r\n", 1)
            self.status = int(head.split(b" ")[1])
            self.chunked = b"chunked" in head.lower()
        if self.chunked:
            while b"\r\n" in self.raw:
                size_line, rest = self.raw.split(b"\r\n", 1)
                n = int(size_line.split(b";")[0], 16)
                if n == 0:
                    self.clean_end = self.ended = True  # the response is over
                    self.raw = b""
                    break
                if len(rest) < n + 2:
                    break
                self.body += rest[:n]
                self.raw = rest[n + 2:]
        else:
            self.body += self.raw
            self.raw = b""
        while b"\n\n" in self.body:
            block, self.body = self.body.split(b"\n\n", 1)
            ev = {"event": "message", "id": None, "data": None}
            data = []
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "event":
                    ev["event"] = v
                elif k == "id":
                    ev["id"] = int(v)
                elif k == "data":
                    data.append(v)
            if data:
                ev["data"] = json.loads("\n".join(data))
                self.events.append(ev)
            elif ev["id"] is not None:
                self.events.append(ev)

    def pump(self, until, timeout):
        """Reads until until(self) or the deadline or the end; returns until(self)."""
        deadline = time.monotonic() + timeout
        while not until(self) and not self.ended:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._recv(min(left, 0.5)) is not None:
                self._parse()
        return until(self)

    def last_id(self):
        ids = [e["id"] for e in self.events if e["id"] is not None]
        return ids[-1] if ids else None

    def close(self):
        self.s.close()


def full_log(auth):
    """Every event auth may see, paging /events/log."""
    out, since = [], 0
    for _ in range(1000):
        st, _, j = call("GET", "/events/log?since=%d&limit=1000" % since, auth=auth)
        assert st == 200, st
        evs = j["events"]
        out += evs
        nxt = j.get("last", evs[-1]["seq"] if evs else since)
        if nxt <= since:
            break
        since = nxt
    return out


def incident(title, status=None, desc=""):
    p = {"title": title, "severity": 1}
    if status:
        p["status"] = status
    if desc:
        p["description"] = desc
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.7, 32.8]}, "properties": p}


def newest(auth):
    s = Sse(auth)
    s.pump(lambda x: x.events, 10)
    s.close()
    return s.events[0]["id"]


# ---- resume ---------------------------------------------------------------

def part_resume():
    seed = int(os.environ.get("FM_SEED") or random.randrange(1 << 31))
    print("# seed %d (FM_SEED=%d repeats it)" % (seed, seed), flush=True)
    rnd = random.Random(seed)
    ta, tb = token("liaison-a"), token("liaison-b")
    b = login("liaison-b")
    geo = {"Content-Type": "application/geo+json"}
    n, k = 0, 0
    t0 = time.monotonic()
    while n < 5000:
        r = rnd.random()
        k += 1
        if r < 0.55:  # a batch of drafts: A's are hidden from B, B's are B's own
            who = ta if rnd.random() < 0.6 else tb
            m = rnd.randrange(20, 400)
            fc = {"type": "FeatureCollection", "features": [incident("imp %d.%d" % (k, i)) for i in range(m)]}
            st, _, j = call("POST", "/import?collection=incidents", json.dumps(fc).encode(), who, geo)
            assert st == 201, (st, j)
            n += m
        else:  # single items: published by either side, or a draft
            for _ in range(rnd.randrange(1, 30)):
                who = ta if rnd.random() < 0.5 else tb
                st, _, j = call("POST", "/collections/incidents/items",
                                incident("one %d" % n, "draft" if rnd.random() < 0.4 else None), who, geo)
                assert st == 201, (st, j)
                n += 1
    print("# %d writes in %.1f s" % (k, time.monotonic() - t0), flush=True)
    last = newest(b)
    log = full_log(b)
    seqs = [e["seq"] for e in log]
    check("the log has some 5,000 events (%d), of which B may see %d" % (last, len(log)),
          last >= 5000 and 0 < len(log) < last)
    check("B's log is in order, each once", seqs == sorted(set(seqs)))

    def resume(since):
        want = [e for e in log if e["seq"] > since]
        s = Sse(b, last_id=since)
        t0 = time.monotonic()
        target = want[-1]["seq"] if want else since
        s.pump(lambda x: (x.last_id() or -1) >= target and x.last_id() is not None, 60)
        dt = time.monotonic() - t0
        s.close()
        got = [e for e in s.events if e["event"] == "message"]
        other = [e for e in s.events if e["event"] not in ("message", "position")]
        gids, wids = [e["id"] for e in got], [e["seq"] for e in want]
        first_bad = next((i for i, (g, w) in enumerate(zip(gids, wids)) if g != w), min(len(gids), len(wids)))
        ok = gids == wids and all(g["data"] == w for g, w in zip(got, want)) and not other
        check("resumed after %d: the %d events B may see after it, ids and data as in /events/log (%.1f s)"
              % (since, len(want), dt), ok,
              "got %d events, want %d; first difference at #%d: got %s want %s; other events %s"
              % (len(gids), len(wids), first_bad, gids[first_bad:first_bad + 3], wids[first_bad:first_bad + 3],
                 [(e["event"], e["id"]) for e in other][:5]))

    resume(0)
    for since in sorted(rnd.sample(range(1, seqs[-1]), 6)):
        resume(since)
    # a write while a stream catches up lands once, in order
    s = Sse(b, last_id=0)
    st, _, j = call("POST", "/collections/incidents/items", incident("during catch-up"), ta, geo)
    s.pump(lambda x: any((e["data"] or {}).get("after", {}).get("properties", {}).get("title") == "during catch-up"
                         for e in x.events), 60)
    s.close()
    got = [e["id"] for e in s.events if e["event"] == "message"]
    want = [e["seq"] for e in full_log(b)]
    check("a write during a catch-up: every event once, in order", got == want,
          "got %d want %d" % (len(got), len(want)))


# ---- logout and role change -------------------------------------------------

def part_logout():
    ta = token("liaison-a")
    geo = {"Content-Type": "application/geo+json"}
    v = login("viewer")
    s = Sse(v)
    check("a cookie stream opens", s.pump(lambda x: x.events, 10) and s.status == 200)
    t0 = time.monotonic()
    st, _, _ = call("POST", "/logout", auth=v)
    # a write right after the logout: it must not reach the ended session
    st2, _, _ = call("POST", "/collections/incidents/items", incident("after logout"), ta, geo)
    s.pump(lambda x: False, 3)
    dt = s.ended and time.monotonic() - t0
    check("logout answers 204 and the write after it 201", st == 204 and st2 == 201, (st, st2))
    check("the stream ends within 1 s of the logout (%.3f s)" % (dt or -1), s.ended and dt < 1.0,
          "ended %s after %s s" % (s.ended, dt))
    check("it says why (event: bye) and ends cleanly", any(e["event"] == "bye" for e in s.events) and s.clean_end)
    check("nothing written after the logout reaches it",
          not any((e["data"] or {}).get("after") for e in s.events), [e["event"] for e in s.events])
    s.close()

    # no endpoint changes a role; a change in the database is seen at the next poll
    sup = login("supervisor")
    s = Sse(sup)
    s.pump(lambda x: x.events, 10)
    db = sqlite3.connect(DB, timeout=10)
    t0 = time.monotonic()
    db.execute("UPDATE users SET role = 'viewer' WHERE name = 'supervisor'")
    db.commit()
    s.pump(lambda x: False, 5)
    dt = s.ended and time.monotonic() - t0
    db.execute("UPDATE users SET role = 'supervisor' WHERE name = 'supervisor'")
    db.commit()
    db.close()
    check("a role changed in the database ends the user's stream within 2 s (%.3f s), not at the heartbeat"
          % (dt or -1), s.ended and dt < 2.0, "ended %s after %s" % (s.ended, dt))
    s.close()


# ---- slow readers -------------------------------------------------------------

def part_slow():
    ta, tb = token("liaison-a"), token("liaison-b")
    geo = {"Content-Type": "application/geo+json"}
    desc = "x" * 6000  # a sizeable event, so that the streams' queues fill
    w = Conn()
    count = [0]

    def write():
        count[0] += 1
        t = time.monotonic()
        st, _, _ = w.request("POST", "/collections/incidents/items",
                             json.dumps(incident("w%d" % count[0], None, desc)).encode(), dict(ta, **geo))
        assert st == 201, st
        return (time.monotonic() - t) * 1000

    for _ in range(10):
        write()  # warm up
    first = newest(tb)
    base = [write() for _ in range(60)]
    rss0 = rss_kb()
    peak = [rss0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb())
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    n = 500
    t0 = time.monotonic()
    socks = []
    for i in range(n):
        # half of them live, half resuming before the 60 writes above: those
        # are owed some 400 kB each at once
        socks.append(Sse(tb, last_id=first if i % 2 else None, rcvbuf=1024))
    # see that each was answered 200, without taking a byte off its queue
    opened = 0
    for s in socks:
        s.s.settimeout(10)
        try:
            opened += s.s.recv(16, socket.MSG_PEEK).startswith(b"HTTP/1.1 200")
        except OSError:
            pass
    check("%d streams that never read are open (%.1f s)" % (opened, time.monotonic() - t0), opened == n)
    rss1 = rss_kb()
    held = [write() for _ in range(120)]
    stop.set()
    th.join()
    print("# RSS %d kB before, %d kB with the streams open, peak %d kB while 120 writes of %d bytes fill them"
          % (rss0, rss1, peak[0], len(desc)), flush=True)
    # per stream: MHD's connection (its 32 KB memory pool; ~44 KB measured for
    # an idle stream) and the queue (under 16 KB + a 16 KB chunk + one event):
    # some 80 KB. Measured: 11 MB after the resume part, 34 MB on a fresh
    # server (the old main: 127 MB); under ASan (shadow memory, redzones,
    # quarantine) 44 MB after the resume part
    bound = 128 if SANITIZED else 48
    check("the server's RSS grows by less than %d MB with %d non-reading streams (%.1f MB)"
          % (bound, n, (peak[0] - rss0) / 1024), peak[0] - rss0 < bound * 1024)

    # one of them comes back: it reads what it was sent, is cut off, and
    # resumes with its Last-Event-ID missing nothing
    time.sleep(stall_s + 1.5)  # the stall time, and the hub's next pass
    s = socks[1]
    s.pump(lambda x: False, 10 if not SANITIZED else 20)
    dropped = s.ended and not s.clean_end
    check("a stream that did not read was dropped (the connection ends without the last chunk)", dropped,
          "ended %s clean %s, %d events" % (s.ended, s.clean_end, len(s.events)))
    lid = s.last_id() or first
    r = Sse(tb, last_id=lid)
    log = [e for e in full_log(tb) if e["seq"] > lid]
    r.pump(lambda x: (x.last_id() or 0) >= (log[-1]["seq"] if log else 0), 30)
    got = [e["id"] for e in r.events if e["event"] == "message"]
    check("resuming after %d (its Last-Event-ID) gives the %d events after it" % (lid, len(log)),
          got == [e["seq"] for e in log], "got %d want %d" % (len(got), len(log)))
    r.close()
    for s in socks:
        s.close()
    time.sleep(1.5)  # the hub reaps them
    # the baseline again, without the streams: the machine's load drifts
    base += [write() for _ in range(60)]
    p50a, p50b = statistics.median(base), statistics.median(held)
    print("# write p50 %.2f ms alone, %.2f ms with %d non-reading streams (p90 %.2f -> %.2f ms)"
          % (p50a, p50b, n, sorted(base)[int(len(base) * .9)], sorted(held)[int(len(held) * .9)]), flush=True)
    slack = 20 if SANITIZED else 5
    check("the p50 of a write with %d non-reading streams is within 2x + %d ms of the p50 without"
          % (n, slack), p50b <= 2 * p50a + slack, "%.2f vs %.2f ms" % (p50b, p50a))
    w.close()


# ---- past the horizon --------------------------------------------------------

def part_horizon():
    # the server runs with FM_STREAM_HORIZON=1000 on the log of the parts above
    b = login("liaison-b")
    last = newest(b)
    s = Sse(b, last_id=0)
    s.pump(lambda x: x.events, 10)
    s.close()
    first = s.events[0] if s.events else {}
    check("a client %d events behind, past the horizon (1,000), gets event: reset with the newest id first"
          % last, first.get("event") == "reset" and first.get("id") == last and first.get("data") == {"last": last}
          and not any(e["event"] == "message" for e in s.events), s.events[:3])
    since = last - 900
    log = [e for e in full_log(b) if e["seq"] > since]
    s = Sse(b, last_id=since)
    s.pump(lambda x: (x.last_id() or 0) >= log[-1]["seq"], 60)
    s.close()
    got = [e for e in s.events if e["event"] != "position"]
    check("a client 900 behind, within the horizon, gets the %d events after it, no reset" % len(log),
          [(e["id"], e["data"]) for e in got] == [(e["seq"], e) for e in log], "got %d" % len(got))


{"resume": part_resume, "horizon": part_horizon, "logout": part_logout, "slow": part_slow}[PART]()
sys.exit(1 if failed else 0)
