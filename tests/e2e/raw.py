"""Malformed bytes on a raw socket against the server on 127.0.0.1:PORT.
Each case exits 0 when the server behaved: it answered with a 4xx or closed
the connection, within a bounded time."""
import ast
import json
import os
import socket
import sys
import time

port = int(sys.argv[1])
case = sys.argv[2]


def conn(timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_all(s, limit=1 << 20):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def status_of(data):
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def parse_responses(data):
    """The HTTP/1.1 responses in data, in order: (status, headers, body)."""
    out = []
    while data.startswith(b"HTTP/"):
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        rest = data[end + 4:]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                nl = rest.find(b"\r\n")
                size = int(rest[:nl].split(b";")[0], 16) if nl >= 0 else 0
                chunk_end = nl + 2 + size
                body += rest[nl + 2:chunk_end]
                rest = rest[chunk_end + 2:]
                if size == 0 or nl < 0:
                    break
        else:
            n = int(headers.get("content-length", "0"))
            body, rest = rest[:n], rest[n:]
        out.append((status_of(data), headers, body))
        data = rest
    return out


def exchange(request, wait=5.0):
    """Sends request (a Python bytes literal; @AUTH@ becomes the header
    Authorization: Bearer $FM_RAW_TOKEN) at once, reads until the server
    closes or `wait` seconds pass, and prints what came back as JSON: the
    statuses in order, whether the server closed, when the first answer
    was complete, and the first answer's Content-Type and body."""
    req = ast.literal_eval(request)
    token = os.environ.get("FM_RAW_TOKEN", "")
    req = req.replace(b"@AUTH@", b"Authorization: Bearer " + token.encode() + b"\r\n")
    s = conn(timeout=wait)
    start = time.time()
    first_at = None
    closed = False
    data = b""
    try:
        s.sendall(req)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while time.time() - start < wait:
            s.settimeout(max(0.05, wait - (time.time() - start)))
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
            if first_at is None and parse_responses(data):
                first_at = time.time() - start
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    resp = parse_responses(data)
    if first_at is None and resp:
        first_at = time.time() - start
    print(json.dumps({
        "statuses": [r[0] for r in resp],
        "closed": closed,
        "first_at": first_at,
        "ctype": resp[0][1].get("content-type", "") if resp else "",
        "body": resp[0][2].decode("utf-8", "replace") if resp else "",
    }))
    return True


def main():
    if case == "exchange":
        return exchange(sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 5.0)
    if case == "garbage":
        s = conn()
        s.sendall(b"\x00\xff\xfe\xfd GET / HTTP/1.1\r\n\r\n")
        st = status_of(read_all(s))
        return st == 0 or 400 <= st < 500
    if case == "bigheader":
        s = conn()
        s.sendall(b"GET /collections HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        st = status_of(read_all(s))
        return st == 0 or st in (400, 413, 431)
    if case == "shortbody":
        s = conn()
        s.sendall(b"POST /collections/zones/items HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/geo+json\r\nContent-Length: 100\r\n\r\n{\"type\":")
        s.close()
        time.sleep(0.2)
        return True
    if case == "bigchunked":
        s = conn()
        s.sendall(b"POST /collections/zones/items HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\n\r\n")
        start = time.time()
        try:
            for _ in range(100):
                s.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return True
        st = status_of(read_all(s))
        return (st == 0 or st in (401, 413)) and time.time() - start < 10
    if case == "halfheader":
        s = conn(timeout=15)
        s.sendall(b"GET /collections HTTP/1.1\r\nHost: x\r\nX-Half: ")
        start = time.time()
        read_all(s)
        took = time.time() - start
        return took < 10
    raise SystemExit("unknown case " + case)


sys.exit(0 if main() else 1)
