"""Malformed bytes on a raw socket against the server on 127.0.0.1:PORT.
Each case exits 0 when the server behaved: it answered with a 4xx or closed
the connection, within a bounded time."""
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


def main():
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
