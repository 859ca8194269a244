#!/usr/bin/env python3
"""nodes.py - the event stream across several servers on one PostgreSQL
(tests/e2e/nodes.sh starts them and HAProxy). Parts:

  latency NODE_W NODE_S TOKEN_A TOKEN_B
      B streams from node S; A writes N items through node W, one at a
      time; the delay from each write's answer to its event on B's stream
      is measured. Prints p50/p99/max and "ok"/"FAIL" lines.
  failover LB TOKEN_A TOKEN_B PIDS
      B streams through the balancer, which names the node in X-Node; that
      node is killed (SIGKILL) while A goes on writing through the
      balancer; B reconnects through the balancer with Last-Event-ID. Every
      write's event must arrive once, in order, in one sequence.
"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse

N_WRITES = 60


def hostport(url):
    u = urllib.parse.urlparse(url)
    return u.hostname, u.port


def check(sentence, ok, detail=""):
    print(("ok - " if ok else "FAIL - ") + sentence + ("" if ok or not detail else ": " + detail))
    sys.stdout.flush()
    return ok


def zone(i):
    x, y = 35.60 + (i % 50) * 0.002, 32.70 + (i // 50) * 0.002
    return {"type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]]},
            "properties": {"title": "node test %d" % i, "type": "restricted", "status": "proposed",
                           "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2036-01-01T00:00:00Z"}}


def write(url, token, i, tries=1):
    """POST a zone; returns (status, id). Retries a refused connection (a
    node just killed) up to tries times."""
    host, port = hostport(url)
    for attempt in range(tries):
        try:
            c = http.client.HTTPConnection(host, port, timeout=10)
            c.request("POST", "/collections/zones/items", json.dumps(zone(i)),
                      {"Authorization": "Bearer " + token, "Content-Type": "application/geo+json"})
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status >= 500 and attempt + 1 < tries:
                time.sleep(0.2)
                continue
            return r.status, (json.loads(body).get("id") if r.status == 201 else None)
        except OSError:
            if attempt + 1 == tries:
                raise
            time.sleep(0.2)
    return None, None


class Stream(threading.Thread):
    """An SSE client: records (seq, action, item, arrival time)."""

    def __init__(self, url, token, since=None):
        super().__init__(daemon=True)
        self.url, self.token, self.since = url, token, since
        self.events, self.node, self.ended = [], None, threading.Event()
        self.ready = threading.Event()
        self.conn = None

    def run(self):
        host, port = hostport(self.url)
        headers = {"Authorization": "Bearer " + self.token, "Accept": "text/event-stream"}
        if self.since is not None:
            headers["Last-Event-ID"] = str(self.since)
        try:
            self.conn = http.client.HTTPConnection(host, port, timeout=30)
            self.conn.request("GET", "/events", headers=headers)
            r = self.conn.getresponse()
            self.node = r.getheader("X-Node")
            self.ready.set()
            ev = {}
            while True:
                line = r.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("id: "):
                    ev["id"] = int(line[4:])
                elif line.startswith("data: "):
                    ev["data"] = line[6:]
                elif line.startswith("event: "):
                    ev["event"] = line[7:]
                elif line == "":
                    if "data" in ev and ev.get("event", "message") == "message":
                        d = json.loads(ev["data"])
                        if d.get("action"):
                            self.events.append((ev.get("id"), d.get("action"), d.get("item"), time.monotonic()))
                    ev = {}
        except (OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            self.ready.set()
            self.ended.set()

    def wait_item(self, item, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events:
                if e[2] == item and e[1] == "create":
                    return e[3]
            time.sleep(0.002)
        return None


def latency(node_w, node_s, token_a, token_b):
    s = Stream(node_s, token_b)
    s.start()
    s.ready.wait(10)
    time.sleep(0.3)
    delays = []
    for i in range(N_WRITES):
        status, item = write(node_w, token_a, 1000 + i)
        t0 = time.monotonic()  # the write's answer (its event may come first: a delay of 0)
        if status != 201:
            check("A's write %d through node W is 201" % i, False, str(status))
            return
        t1 = s.wait_item(item, 5)
        delays.append(max(0.0, (t1 - t0) * 1000) if t1 else 5000)
    delays.sort()
    p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99) - 1]
    print("# event delivery across nodes, %d writes: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (len(delays), p50, p99, delays[-1]))
    check("every write on one node reaches B's stream on another (%d of %d)" % (sum(d < 5000 for d in delays), len(delays)),
          all(d < 5000 for d in delays))
    # without a listener the stream finds other servers' writes by its 1 s
    # poll of the log (p99 near 1,000 ms); the goal is 100 ms
    check("at once: p99 %.1f ms below 500 ms (the goal is 100 ms; the log's poll alone gives ~1,000)" % p99, p99 < 500)


def failover(lb, token_a, token_b, pids):
    pids = dict(p.split("=") for p in pids.split(","))
    s = Stream(lb, token_b)
    s.start()
    s.ready.wait(10)
    check("B's stream through the balancer names its node (%s)" % s.node, s.node in pids)
    time.sleep(0.3)
    written = []
    for i in range(10):
        status, item = write(lb, token_a, 2000 + i, tries=10)
        if status == 201:
            written.append(item)
    os.kill(int(pids[s.node]), signal.SIGKILL)
    t_kill = time.monotonic()
    check("the stream's node is killed and the stream ends", s.ended.wait(10))
    refused = 0
    for i in range(10, 30):
        status, item = write(lb, token_a, 2000 + i, tries=20)
        if status == 201:
            written.append(item)
        else:
            refused += 1
    check("A's writes through the balancer go on (%d of 30 acknowledged, %d refused)" % (len(written), refused),
          len(written) == 30)
    last = max([e[0] for e in s.events if e[0] is not None] or [0])
    s2 = Stream(lb, token_b, since=last)
    s2.start()
    s2.ready.wait(10)
    check("B reconnects through the balancer to another node (%s) %.1f s after the kill, with Last-Event-ID %d"
          % (s2.node, time.monotonic() - t_kill, last), s2.node in pids and s2.node != s.node)
    end = time.monotonic() + 10
    while time.monotonic() < end and not set(written) <= {e[2] for e in s.events + s2.events if e[1] == "create"}:
        time.sleep(0.05)
    got = [e for e in s.events + s2.events if e[1] == "create" and e[2] in set(written)]
    items = [e[2] for e in got]
    seqs = [e[0] for e in s.events + s2.events]
    check("every acknowledged write reached B once (%d of %d), none repeated" % (len(set(items)), len(written)),
          sorted(items) == sorted(written),
          "missing %s; first stream %s; second %s" % (sorted(set(written) - set(items)),
                                                     [e[:3] for e in s.events[-5:]], [e[:3] for e in s2.events[:8]]))
    check("in order, one sequence of event ids across the nodes", seqs == sorted(seqs) and len(seqs) == len(set(seqs)),
          str(seqs[:40]))


if __name__ == "__main__":
    part = sys.argv[1]
    if part == "latency":
        latency(*sys.argv[2:6])
    elif part == "failover":
        failover(*sys.argv[2:6])
    else:
        sys.exit("unknown part " + part)
