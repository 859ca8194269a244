# tests/interop/cot_lib.sh - what the CoT stream tests share (cot_stream.sh
# over HTTP, cot_tcp.sh on a raw port): sourced after lib.sh's fm_start.
#   cot_setup               # TA/TB tokens, A/B/JSON/PATCH curl args, XSD
#   waitfor FILE PATTERN    # until $FM_TMP/FILE holds it (10 s at most)
#   uids                    # the CoT uids of stdin, sorted, once each
#   cot_client HOST PORT LINE OUT [CA [CERT KEY]]
#                           # a TAK client in the background: sends LINE,
#                           # writes what it gets to $FM_TMP/OUT; with CA it
#                           # speaks TLS (CERT KEY: its certificate), an
#                           # error in $FM_TMP/OUT.err
#   ended PID...            # each client has ended within 10 s (else killed: 1)
#   cot_certs               # a CA, the server's certificate (127.0.0.1), a
#                           # client's it signed, a self-signed one, in $FM_TMP/pki
cot_setup() {
    TA=$(fm_token liaison-a)
    TB=$(fm_token liaison-b)
    A=(-H "Authorization: Bearer $TA")
    B=(-H "Authorization: Bearer $TB")
    JSON=(-H 'Content-Type: application/geo+json')
    PATCH=(-H 'Content-Type: application/merge-patch+json')
    XSD="$FM_SOURCE_DIR/tests/interop/cot-event.xsd"
}
waitfor() { local i; for i in $(seq 1 200); do grep -q "$2" "$FM_TMP/$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
uids() { grep -o 'uid="fusionmap-[a-z]*-[0-9]*\(-part[0-9]*\)\?"' | sort -u; }

ended() {
    local p i ok=0
    for p in "$@"; do
        for i in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$p" 2>/dev/null && { kill "$p"; ok=1; }
        wait "$p" 2>/dev/null
    done
    return $ok
}

cot_client() {
    python3 - "$1" "$2" "$3" "$FM_TMP/$4" "${5:-}" "${6:-}" "${7:-}" <<'PY' &
import socket, ssl, sys
host, port, line, out, ca, cert, key = sys.argv[1:8]
with open(out, "wb", buffering=0) as f:
    try:
        s = socket.create_connection((host, int(port)))
        if ca:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(ca)
            if cert:
                ctx.load_cert_chain(cert, key)
            s = ctx.wrap_socket(s, server_hostname=host)
        s.sendall(line.encode() + b"\n")
        while True:
            b = s.recv(65536)
            if not b:
                break
            f.write(b)
    except (OSError, ssl.SSLError) as e:
        open(out + ".err", "w").write(repr(e))
PY
}

cot_certs() {
    local d="$FM_TMP/pki" k=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    mkdir -p "$d" && (
        cd "$d" &&
        openssl req -x509 "${k[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca &&
        openssl req "${k[@]}" -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
        printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext &&
        openssl req "${k[@]}" -keyout cl.key -out cl.csr -subj /CN=tak-device &&
        openssl x509 -req -in cl.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cl.pem -days 2 &&
        openssl req -x509 "${k[@]}" -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue
    ) >/dev/null 2>&1
}
