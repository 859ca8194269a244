#!/usr/bin/env python3
"""visibility_model.py - the visibility rule, proven on every channel against
a reference model (issue 17).

Random steps (seeded; the seed is printed, FM_SEED repeats it) of creates,
edits, status changes, withdrawals, answers (ack, dispute), the supervisor's
status steps, conflict resolutions and messages on items' threads, by liaisons of A and B and the
supervisor, against the real server. The model learns each item's statuses
from its owner's history (the owner sees every version) and says, by its own
copy of the rule, what each of four users (A, B, the supervisor, a viewer)
may see: a version is its owner party's alone when it is a draft, or the
withdrawal of such a version; a viewer sees none of those.

After each step, for every user: the item and its history, the answers, its
thread (messages on an owner-only version are secrets too), the
event log since the last look (and the live stream, compared with the log),
each held to the model. Every text an owner-only version carries is a fresh
secret token, and no answer to a user may hold a token of a version that user
may not see, whatever the channel. Every SWEEP steps, and at the end, for
every user and collection: the current items, the withdrawn ones, the items
as of earlier instants, the conflicts, pending, disputes, CoT, CSV export.

Usage: visibility_model.py URL TOKEN_A TOKEN_B TOKEN_SUP TOKEN_VIEWER [STEPS]
Prints 'N passed, N failed'; exits non-zero on a failure.
"""
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

URL, TOKENS, STEPS = sys.argv[1], sys.argv[2:6], int(sys.argv[6]) if len(sys.argv) > 6 else 2000
SEED = int(os.environ.get("FM_SEED") or random.SystemRandom().randrange(1, 2**31))
SWEEP = int(os.environ.get("FM_SWEEP") or 100)
rng = random.Random(SEED)
print(f"visibility model: seed {SEED} (FM_SEED={SEED} repeats it), {STEPS} steps", flush=True)

host = urllib.parse.urlsplit(URL)
COLLS = ["zones", "incidents", "movements"]
STATUSES = {
    "zones": ["draft", "proposed", "active", "expired", "disputed"],
    "incidents": ["draft", "reported", "acknowledged", "under_review", "resolved", "disputed"],
    "movements": ["draft", "notified", "acknowledged", "in_progress", "completed", "cancelled",
                  "disputed"],
}
# the supervisor's table of powers over another party's item (issue 17)
SUP_STEPS = {
    ("zones", "proposed", "disputed"), ("zones", "active", "disputed"),
    ("zones", "proposed", "active"), ("zones", "disputed", "active"),
    ("zones", "disputed", "proposed"), ("incidents", "reported", "disputed"),
    ("incidents", "acknowledged", "disputed"), ("incidents", "under_review", "disputed"),
    ("incidents", "disputed", "under_review"), ("incidents", "disputed", "resolved"),
    ("movements", "notified", "disputed"), ("movements", "acknowledged", "disputed"),
    ("movements", "in_progress", "disputed"), ("movements", "disputed", "notified"),
}
SECRET = re.compile(r"SECRET-(\d+)-")

passed = failed = 0
failures = []


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        if len(failures) < 30:
            failures.append(what)
            print(f"FAIL - {what}", flush=True)


class User:
    def __init__(self, name, party, token, viewer=False):
        self.name, self.party, self.token, self.viewer = name, party, token, viewer
        self.conn = None
        self.log_seq = 0          # the event log read so far
        self.log = []             # (seq, event) this user was given by /events/log
        self.item_versions = set()  # (item, version) told by item events
        self.stream = []          # (seq, data) from the live stream
        self.stream_err = None

    def sees(self, party, owner_only):
        return not owner_only or (not self.viewer and party == self.party)

    def request(self, method, path, body=None, headers=None):
        h = {"Authorization": "Bearer " + self.token}
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data, resp
            except (http.client.HTTPException, ConnectionError, socket.timeout):
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path):
        """GET, with every answer scanned for secrets this user may not see."""
        status, data, resp = self.request("GET", path)
        scan(self, path, data)
        return status, data

    def json(self, path):
        status, data = self.get(path)
        return status, (json.loads(data) if data and status < 300 and
                        data[:1] in (b"{", b"[") else None)


users = {
    "A": User("liaison-a", "A", TOKENS[0]),
    "B": User("liaison-b", "B", TOKENS[1]),
    "S": User("supervisor", "SUP", TOKENS[2]),
    "V": User("viewer", "SUP", TOKENS[3], viewer=True),
}
WRITERS = ["A", "B", "S"]
OWNER_OF_PARTY = {"A": "A", "B": "B", "SUP": "S"}

# the model: item id -> {coll, party, statuses}; secret token -> (item, version)
items = {}
secrets = {}
next_token = [0]


def owner_only(statuses):
    out, prev = [], 0
    for s in statuses:
        prev = 1 if s == "draft" else (prev if s == "withdrawn" else 0)
        out.append(prev)
    return out


def visible_versions(user, item):
    it = items[item]
    return [i + 1 for i, oo in enumerate(owner_only(it["statuses"])) if user.sees(it["party"], oo)]


def version_visible(user, item, version):
    it = items.get(item)
    if it is None or not 1 <= version <= len(it["statuses"]):
        return False
    return user.sees(it["party"], owner_only(it["statuses"])[version - 1])


def scan(user, path, data):
    text = data.decode("utf-8", "replace")
    for m in SECRET.finditer(text):
        n = int(m.group(1))
        item, version = secrets.get(n, (None, None))
        ok = item is not None and version_visible(user, item, version)
        # a token reused by a later visible version would be the test's own slip
        check(ok, f"{user.name} was shown secret {n} (item {item} v{version}) by GET {path}")


def title_for(item_hint, owner_only_next):
    next_token[0] += 1
    n = next_token[0]
    if owner_only_next:
        return n, f"SECRET-{n}- draft text of {item_hint}"
    return n, f"public {n} of {item_hint}"


# ---- geometry -------------------------------------------------------------

def geometry(coll):
    x, y = 35.0 + rng.random() * 0.2, 32.0 + rng.random() * 0.2
    if coll == "zones":
        w, h = 0.02 + rng.random() * 0.06, 0.02 + rng.random() * 0.06
        return {"type": "Polygon",
                "coordinates": [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]}
    if coll == "incidents":
        return {"type": "Point", "coordinates": [x, y]}
    dx, dy = 0.02 + rng.random() * 0.1, rng.uniform(-0.1, 0.1)
    return {"type": "LineString", "coordinates": [[x, y], [x + dx, y + dy]]}


def props(coll, status, title):
    p = {"title": title, "description": title + " (described)", "status": status,
         "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}
    if coll == "zones":
        p["type"] = rng.choice(["restricted", "no_fly", "buffer", "protected_site"])
    elif coll == "incidents":
        p.update(category="shelling", severity=rng.randint(1, 5))
    else:
        p.update(type=rng.choice(["ground", "air"]), corridor_width_m=500)
    return p


# ---- the model learns from the owner ----------------------------------------

def sync(item, token_now=None):
    """Reads the owner's history of item and extends the model with it."""
    it = items[item]
    owner = users[OWNER_OF_PARTY[it["party"]]]
    path = f"/collections/{it['coll']}/items/{item}/history"
    status, data, _ = owner.request("GET", path)
    check(status == 200, f"the owner reads the history of {it['coll']}/{item}: {status}")
    if status != 200:
        return
    hist = json.loads(data)
    versions = [h["version"] for h in hist["versions"]]
    check(versions == list(range(1, len(versions) + 1)),
          f"the owner sees every version of {item}: {versions}")
    statuses = [h["feature"]["properties"]["status"] for h in hist["versions"]]
    old = it["statuses"]
    check(statuses[:len(old)] == old, f"the past of {item} does not change: {old} -> {statuses}")
    it["statuses"] = statuses
    if token_now is not None:
        secrets[token_now] = (item, len(statuses))
    scan(owner, path, data)


# ---- steps ------------------------------------------------------------------

def live_items(pred=lambda it: True):
    return [i for i, it in items.items() if it["statuses"][-1] != "withdrawn" and pred(it)]


def step_create():
    who = users[rng.choice(WRITERS)]
    coll = rng.choice(COLLS)
    first = {"zones": ["draft", "proposed"], "incidents": ["draft", "reported"],
             "movements": ["draft", "notified"]}[coll]
    status = rng.choice(first)
    n, title = title_for("a new " + coll[:-1], status == "draft")
    feat = {"type": "Feature", "geometry": geometry(coll), "properties": props(coll, status, title)}
    code, data, _ = who.request("POST", f"/collections/{coll}/items", feat)
    check(code == 201, f"{who.name} creates a {status} {coll[:-1]}: {code} {data[:200]}")
    if code == 201:
        item = json.loads(data)["id"]
        items[item] = {"coll": coll, "party": who.party, "statuses": [], "msgs": []}
        sync(item, n)
        return item
    return None


def current(item):
    it = items[item]
    return len(it["statuses"]), it["statuses"][-1]


def step_owner_patch(kind):
    cands = live_items()
    if not cands:
        return None
    item = rng.choice(cands)
    it = items[item]
    owner = users[OWNER_OF_PARTY[it["party"]]]
    version, status = current(item)
    target = status if kind == "edit" else rng.choice(STATUSES[it["coll"]])
    # the title a version carries is secret exactly when the version is
    # owner-only; a zone edited while active becomes proposed (public)
    n, title = title_for(f"item {item}", target == "draft")
    patch = {"properties": {"status": target, "title": title, "description": title + " (described)"}}
    if kind == "edit" and rng.random() < 0.5:
        patch["geometry"] = geometry(it["coll"])
    code, data, _ = owner.request("PATCH", f"/collections/{it['coll']}/items/{item}", patch,
                                  {"If-Match": f'"{version}"',
                                   "Content-Type": "application/merge-patch+json"})
    check(code in (200, 409), f"{owner.name} patches {item} {status} -> {target}: {code} {data[:200]}")
    if code == 200:
        sync(item, n)
    return item


def step_supervisor():
    sup = users["S"]
    cands = live_items(lambda it: it["party"] != "SUP" and it["statuses"][-1] != "draft")
    if not cands:
        return None
    item = rng.choice(cands)
    it = items[item]
    version, status = current(item)
    target = rng.choice(STATUSES[it["coll"]] + ["withdrawn"])
    code, data, _ = sup.request("PATCH", f"/collections/{it['coll']}/items/{item}",
                                {"properties": {"status": target}},
                                {"If-Match": f'"{version}"',
                                 "Content-Type": "application/merge-patch+json"})
    allowed = (it["coll"], status, target) in SUP_STEPS
    check((code == 200) == allowed,
          f"the supervisor takes {it['coll']}/{item} from {status} to {target}: {code}, "
          f"the table says {'yes' if allowed else 'no'} ({data[:160]})")
    if code == 200:
        sync(item)
    return item


def step_withdraw():
    cands = live_items()
    if not cands:
        return None
    item = rng.choice(cands)
    it = items[item]
    owner = users[OWNER_OF_PARTY[it["party"]]]
    version, _ = current(item)
    code, data, _ = owner.request("DELETE", f"/collections/{it['coll']}/items/{item}",
                                  headers={"If-Match": f'"{version}"'})
    check(code == 204, f"{owner.name} withdraws {item}: {code} {data[:200]}")
    if code == 204:
        sync(item)
    return item


def step_answer():
    cands = live_items(lambda it: it["statuses"][-1] != "draft")
    if not cands:
        return None
    item = rng.choice(cands)
    it = items[item]
    who = users[rng.choice([w for w in WRITERS if users[w].party != it["party"]])]
    version, _ = current(item)
    decision = rng.choice(["ack", "dispute"])
    code, data, _ = who.request("POST", f"/collections/{it['coll']}/items/{item}/ack",
                                {"decision": decision, "comment": f"answer by {who.name}"},
                                {"If-Match": f'"{version}"'})
    check(code in (200, 201, 409), f"{who.name} answers {item} v{version} ({decision}): {code} {data[:200]}")
    sync(item)
    return item


def step_intruder():
    """A liaison changes the other party's item: refused, nothing changes."""
    cands = live_items(lambda it: it["party"] in ("A", "B"))
    if not cands:
        return None
    item = rng.choice(cands)
    it = items[item]
    who = users["B" if it["party"] == "A" else "A"]
    version, _ = current(item)
    code, _, _ = who.request("PATCH", f"/collections/{it['coll']}/items/{item}",
                             {"properties": {"title": "taken over"}},
                             {"If-Match": f'"{version}"',
                              "Content-Type": "application/merge-patch+json"})
    visible = version_visible(who, item, version)
    check(code == (403 if visible else 404),
          f"{who.name} may not change {it['party']}'s item {item}: {code}")
    sync(item)
    return item


def step_resolve():
    sup = users["S"]
    code, page = sup.json("/collections/conflicts/items?state=open&limit=50")
    if code != 200 or not page["features"]:
        return None
    c = rng.choice(page["features"])
    code, data, _ = sup.request("POST", f"/collections/conflicts/items/{c['id']}/resolve",
                                {"comment": "settled by the supervisor"})
    check(code == 200, f"the supervisor resolves conflict {c['id']}: {code} {data[:200]}")
    return None


def step_message():
    """A writer says something on an item's thread (issue 19): the thread is
    who may see the item's newest version (withdrawn or not), and a message
    stays as that version was: a secret while it is owner-only."""
    if not items:
        return None
    # most often a draft's thread, by its owner: what is said there must stay
    # the owner's after the draft is published or withdrawn
    drafts = [i for i, it in items.items() if owner_only(it["statuses"])[-1]]
    item = rng.choice(drafts if drafts and rng.random() < 0.6 else list(items))
    it = items[item]
    who = users[OWNER_OF_PARTY[it["party"]] if rng.random() < 0.6 else rng.choice(WRITERS)]
    version, _ = current(item)
    oo = owner_only(it["statuses"])[-1]
    n, text = title_for(f"the thread of {item}", oo)
    code, data, _ = who.request("POST", f"/collections/{it['coll']}/items/{item}/messages",
                                {"text": text})
    may = who.sees(it["party"], oo)
    check(code == (201 if may else 404),
          f"{who.name} writes on the thread of {item} (owner-only {oo}): {code} {data[:160]}")
    if code == 201:
        it["msgs"].append(oo)
        if oo:
            secrets[n] = (item, version)
    return item


STEPS_BY_WEIGHT = [(step_create, 26), (lambda: step_owner_patch("edit"), 14),
                   (lambda: step_owner_patch("status"), 20), (step_supervisor, 10),
                   (step_withdraw, 8), (step_answer, 14), (step_intruder, 3), (step_resolve, 5),
                   (step_message, 14)]


def random_step():
    total = sum(w for _, w in STEPS_BY_WEIGHT)
    r = rng.uniform(0, total)
    for fn, w in STEPS_BY_WEIGHT:
        r -= w
        if r <= 0:
            return fn()
    return STEPS_BY_WEIGHT[0][0]()


# ---- what each user sees ----------------------------------------------------

def refs_of(feature):
    """(collection, id, version) named by a conflict Feature."""
    return [(i["collection"], i["id"], i["version"])
            for i in (feature or {}).get("properties", {}).get("items", [])]


def check_item(user, item):
    it = items[item]
    coll, statuses = it["coll"], it["statuses"]
    oo = owner_only(statuses)
    live = statuses[-1] != "withdrawn" and user.sees(it["party"], oo[-1])
    code, f = user.json(f"/collections/{coll}/items/{item}")
    check(code == (200 if live else 404),
          f"{user.name} GET {coll}/{item} ({statuses[-1]}, owner-only {oo[-1]}): {code}")
    if code == 200:
        check(f["properties"]["version"] == len(statuses),
              f"{user.name} sees {item} at its current version")
    want = visible_versions(user, item)
    code, hist = user.json(f"/collections/{coll}/items/{item}/history")
    got = [h["version"] for h in hist["versions"]] if code == 200 else []
    check(got == want and (code == 200) == bool(want),
          f"{user.name} history of {item} {statuses}: got {got} ({code}), the model says {want}")
    code, _ = user.get(f"/collections/{coll}/items/{item}/acks")
    check(code == (200 if live else 404), f"{user.name} GET acks of {item}: {code}")
    # the thread: read by who may see the newest version, withdrawn or not;
    # each message as the version it was written on
    code, th = user.json(f"/collections/{coll}/items/{item}/messages")
    reads = user.sees(it["party"], oo[-1])
    want_n = sum(1 for m in it["msgs"] if user.sees(it["party"], m))
    got_n = len(th["messages"]) if code == 200 else 0
    check(code == (200 if reads else 404) and got_n == (want_n if reads else 0),
          f"{user.name} reads the thread of {item} (owner-only {oo[-1]}): {code},"
          f" {got_n} messages, the model says {want_n if reads else 'none'}")


def check_event(user, ev):
    coll, item, version = ev.get("collection"), ev.get("item"), ev.get("version")
    if coll in COLLS:
        check(version_visible(user, item, version),
              f"{user.name} is told of {coll}/{item} v{version} ({ev['action']}, seq {ev['seq']})")
        if ev["action"] not in ("ack", "dispute", "message", "seen", "ruling"):
            user.item_versions.add((item, version))
            if ev.get("before") is not None:
                check(version_visible(user, item, version - 1),
                      f"{user.name} is shown {item} v{version - 1} as the before of seq {ev['seq']}")
    elif coll == "conflicts":
        for side in ("before", "after"):
            for c, i, v in refs_of(ev.get(side)):
                check(version_visible(user, i, v),
                      f"{user.name}'s conflict event {ev['seq']} ({side}) names {c}/{i} v{v}")


def read_log(user):
    while True:
        code, page = user.json(f"/events/log?since={user.log_seq}&limit=1000")
        check(code == 200, f"{user.name} reads the event log: {code}")
        if code != 200 or not page["events"]:
            return
        for ev in page["events"]:
            check(ev["seq"] > user.log_seq, f"{user.name}'s log is in order at {ev['seq']}")
            user.log_seq = ev["seq"]
            user.log.append((ev["seq"], ev))
            check_event(user, ev)


sweeps = [0]


def sweep(final=False):
    sweeps[0] += 1
    for user in users.values():
        for coll in COLLS:
            cur = {(i, len(it["statuses"])) for i, it in items.items() if it["coll"] == coll
                   and it["statuses"][-1] != "withdrawn"
                   and version_visible(user, i, len(it["statuses"]))}
            gone = {(i, len(it["statuses"])) for i, it in items.items() if it["coll"] == coll
                    and it["statuses"][-1] == "withdrawn"
                    and version_visible(user, i, len(it["statuses"]))}
            for query, want in (("", cur), ("&status=withdrawn", gone)):
                code, page = user.json(f"/collections/{coll}/items?limit=10000{query}")
                got = {(f["id"], f["properties"]["version"]) for f in page["features"]} if page else set()
                check(code == 200 and got == want,
                      f"{user.name} lists {coll}{query}: {len(got)} items, the model {len(want)}; "
                      f"extra {sorted(got - want)[:5]}, missing {sorted(want - got)[:5]}")
                check(page is not None and page.get("numberMatched") == len(want),
                      f"{user.name} {coll}{query}: numberMatched counts only what it may see")
            # as of now, and as of a moment ago: only versions it may see
            for t in (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2)),
                      time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))):
                for query in ("", "&status=withdrawn", "&status=draft"):
                    code, page = user.json(f"/collections/{coll}/items?limit=10000&t={t}{query}")
                    for f in (page or {}).get("features", []):
                        check(version_visible(user, f["id"], f["properties"]["version"]),
                              f"{user.name} as of {t}{query} sees {coll}/{f['id']} v{f['properties']['version']}")
            for fmt in (("csv", "kml") if final or sweeps[0] % 5 == 0 else ()):
                user.get(f"/collections/{coll}/items?f={fmt}")
                user.get(f"/collections/{coll}/items?f={fmt}&status=withdrawn")
        code, page = user.json("/collections/conflicts/items?limit=10000")
        for f in (page or {}).get("features", []):
            for c, i, v in refs_of(f):
                check(version_visible(user, i, v),
                      f"{user.name} sees conflict {f['id']} naming {c}/{i} v{v}")
        for path in ("/pending", "/disputes", "/cot"):
            code, body = user.get(path)
            check(code in (200, 403), f"{user.name} GET {path}: {code}")
            if code == 200 and path != "/cot":
                for e in json.loads(body).get("items", []):
                    if "id" in e and "version" in e:
                        check(version_visible(user, e["id"], e["version"]),
                              f"{user.name} {path} lists {e['id']} v{e['version']}")
        read_log(user)
        # every version the user may see was told by exactly its event
        want = {(i, v) for i in items for v in visible_versions(user, i)}
        check(user.item_versions == want,
              f"{user.name}'s log tells every version it may see and no other: extra "
              f"{sorted(user.item_versions - want)[:5]}, missing {sorted(want - user.item_versions)[:5]}")
        check_stream(user, final)


# ---- the live stream --------------------------------------------------------

def stream_reader(user):
    try:
        s = socket.create_connection((host.hostname, host.port), timeout=600)
        s.sendall(f"GET /events HTTP/1.1\r\nHost: {host.netloc}\r\nAuthorization: Bearer {user.token}\r\n"
                  f"Accept: text/event-stream\r\nLast-Event-ID: 0\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(65536)
        head, buf = buf.split(b"\r\n\r\n", 1)
        chunked = b"chunked" in head.lower()
        raw = b""
        while True:
            data = s.recv(65536)
            if not data:
                return
            buf += data
            if chunked:
                while True:
                    if b"\r\n" not in buf:
                        break
                    size_line, rest = buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if len(rest) < size + 2:
                        break
                    raw += rest[:size]
                    buf = rest[size + 2:]
            else:
                raw, buf = raw + buf, b""
            while b"\n\n" in raw:
                block, raw = raw.split(b"\n\n", 1)
                fields = {}
                for line in block.decode().split("\n"):
                    if line.startswith(":"):
                        continue
                    k, _, v = line.partition(":")
                    fields[k] = v[1:] if v.startswith(" ") else v
                if "data" in fields and fields.get("event", "message") == "message" and "id" in fields:
                    user.stream.append((int(fields["id"]), json.loads(fields["data"])))
                elif fields.get("event") == "reset":
                    user.stream_err = "reset: " + fields.get("data", "")
    except Exception as e:  # noqa: BLE001 - reported as a failure below
        user.stream_err = repr(e)


def check_stream(user, final):
    deadline = time.time() + (10 if final else 3)
    last = user.log[-1][0] if user.log else 0
    while time.time() < deadline and (not user.stream or user.stream[-1][0] < last):
        time.sleep(0.05)
    log_ids = [seq for seq, _ in user.log]
    got = [seq for seq, _ in user.stream]
    upto = [seq for seq in log_ids if seq <= (got[-1] if got else 0)]
    check(user.stream_err is None, f"{user.name}'s stream stays up: {user.stream_err}")
    check(got == upto and (not final or got == log_ids),
          f"{user.name}'s stream delivered the events of its log, in order: stream {len(got)}, "
          f"log {len(log_ids)}; first difference at "
          f"{next((a for a, b in zip(got, upto) if a != b), None)}")


# ---- the run ------------------------------------------------------------------

for u in users.values():
    threading.Thread(target=stream_reader, args=(u,), daemon=True).start()

started = time.time()
for n in range(1, STEPS + 1):
    item = random_step()
    for user in users.values():
        if item is not None:
            check_item(user, item)
        read_log(user)
    if n % SWEEP == 0:
        sweep()
        print(f"step {n}: {len(items)} items, {len(secrets)} secrets, "
              f"{users['S'].log_seq} events, {time.time() - started:.0f} s", flush=True)
    if failed > 50:
        print("too many failures, stopping")
        break
sweep(final=True)
print(f"seed {SEED}: {n} steps, {len(items)} items "
      f"({sum(1 for it in items.values() if 'draft' in it['statuses'])} ever drafts, "
      f"{sum(1 for it in items.values() if it['statuses'][-1] == 'withdrawn')} withdrawn)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
