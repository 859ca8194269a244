#!/usr/bin/python3
"""verify_export.py EXPORT - checks the signed answers of a fusionmap log
export (`fusionmap events export`) with nothing of fusionmap's: RFC 8785
(JCS) and Ed25519 (Debian's python3-nacl) only. It shows that a third
party can check what each side signed without trusting the server or its
code.

For each record, in order:
- key_add: the key (its fingerprint must be the SHA-256 of its 32 bytes,
  registered by its own user); key_revoke: the key is revoked from there;
- a record that writes a version of an item (create, replace, patch,
  withdraw, acknowledged, disputed): the SHA-256 of its Feature text;
- ack, dispute or ruling: when it holds a signature, the statement is rebuilt from
  the records alone (README, "Keys and signed answers") and the signature
  checked with the key, which must be its user's and not revoked before.
  An unsigned answer by a user who registered a key before is refused.
  A ruling's statement names its decision (uphold/overrule), the reason's
  digest and "purpose": "fusionmap ruling".
- cosign (a cosigned head): the hash it signs must be the chain's at the
  record it names, and its signature (statement {"at", "hash", "party",
  "purpose": "fusionmap head", "seq", "user"}) must verify with its user's
  current key.
It also follows the hash chain and the closing line: chain v1, SHA-256 of
the previous hash and the record's sorted compact JSON; chain v2 (records
written since the witness work), SHA-256 of the previous hash and the
SHA-256 of that JSON (its digest); v1 up to a record, v2 from there on.

JCS here is json.dumps(sort_keys, compact, ensure_ascii=False): for a
statement, whose member names are ASCII and whose values are strings and
integers below 2^53, that is RFC 8785's form exactly (Python sorts by code
point, JCS by UTF-16 unit: the same for ASCII names; both escape control
characters as \\u00xx in lower case). The chain's record text is
jansson's, which writes a control character's escape in upper case: an
export whose texts hold control characters other than \\b\\f\\n\\r\\t is
beyond this script's chain check (not its signature check).

An evidence bundle (`fusionmap evidence export`, GET .../evidence: one
JSON object) is checked the same way: its records in full as above, every
other record as its digest (chain v2: SHA-256(prev || digest)) or, before
the upgrade to v2, its hash as given; its head must be its last record's;
the keys of signers whose key records the party may not read are the
bundle's "keys" (the fingerprint checked against the key); a version of
the item it names must be among its records in full. Its "picture" (a PNG
of the item's area, as the party saw it when the bundle was made) is the
server's drawing, outside the chain: only its digest is checked, which
catches a file damaged, not a picture redrawn. `fusionmap events verify
--file BUNDLE` makes the same checks in C, in the same order.

Prints "ok: N records, M signed answers" and exits 0, or names the first
bad record and exits 1.
"""
import base64
import hashlib
import json
import sys

import nacl.exceptions
import nacl.signing

VERSION_ACTIONS = {"create", "replace", "patch", "withdraw", "acknowledged", "disputed"}


def jcs(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def canonical(r):
    rec = {k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner",
                             "item", "version", "before", "after")}
    return json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev, r, v2):
    """v1: SHA-256(prev || canonical record); v2: SHA-256(prev || SHA-256(canonical))."""
    return sha256_hex(prev + (sha256_hex(canonical(r)) if v2 else canonical(r)))


def main(path):
    keys, versions, holders, hashes = {}, {}, set(), {}
    nheads, v2, given = 0, False, 0
    prev, count, nsigned, closed = "0" * 64, 0, 0, False
    text = open(path, encoding="utf-8").read()
    bundle = None
    if text.startswith("{") and "\n" not in text.rstrip("\n"):
        bundle = json.loads(text)
        if bundle.get("type") != "fusionmap evidence" or bundle.get("format") != 1:
            bundle = None
    if bundle:
        # an evidence bundle: every record of the log, the item's in full, the others as
        # their digest (chain v2) or hash (v1, taken as given); the keys of signers whose
        # key records this party may not read, as the server says (fingerprint checked)
        lines = bundle["records"]
        for fp, k in bundle["keys"].items():
            raw = base64.b64decode(k["public_key"], validate=True)
            if hashlib.sha256(raw).hexdigest() != fp:
                return "the bundle's key %s is not its fingerprint's" % fp
            keys[fp] = {"user": k["user"], "key": raw, "revoked": False}
    else:
        lines = [json.loads(line) for line in text.splitlines()]
    for r in lines:
        if bundle and r.get("seq") != count + 1:
            return "the bundle's records are not the log's in order (at %d)" % (count + 1)
        if bundle and "action" not in r:
            count += 1
            if "digest" in r:
                v2 = True
                if sha256_hex(prev + r["digest"]) != r["hash"]:
                    return "record %d: the chain breaks here (its digest)" % r["seq"]
            elif v2:
                return "record %d: a record of chain v1 after v2" % r["seq"]
            else:
                given += 1
            prev = hashes[r["seq"]] = r["hash"]
            continue
        if bundle:
            r["prev_hash"] = prev
        if "seq" not in r:
            if r.get("records") != count or r.get("head") != prev:
                return "the closing line does not match the records"
            closed = True
            continue
        count += 1
        seq = r["seq"]
        # a log is v1 up to a record and v2 from there on, never back
        if not v2 and r["prev_hash"] == prev and chain_hash(prev, r, False) != r["hash"] \
                and chain_hash(prev, r, True) == r["hash"]:
            v2 = True
        if r["prev_hash"] != prev or chain_hash(prev, r, v2) != r["hash"]:
            return "record %d: the chain breaks here" % seq
        prev = r["hash"]
        hashes[seq] = prev
        action, after = r["action"], r["after"]
        if action in VERSION_ACTIONS and r["collection"]:
            versions[(r["collection"], r["item"], r["version"])] = sha256_hex(after or "")
        elif action == "cosign" and r["collection"] == "heads":
            a = json.loads(after)
            if hashes.get(a["seq"]) != a["hash"] or a["seq"] >= seq:
                return "record %d: a head cosigned by %s says record %d has another hash" \
                    " (the log was rewritten up to there, or a fork)" % (seq, r["user"], a["seq"])
            sig = a["signature"]
            k = keys.get(sig["key"])
            if not k or k["user"] != r["user"] or k["revoked"]:
                return "record %d: a head cosigned with a key that is not its user's" % seq
            statement = jcs({"at": sig["at"], "hash": a["hash"], "party": r["party"],
                             "purpose": "fusionmap head", "seq": a["seq"], "user": r["user"]})
            try:
                nacl.signing.VerifyKey(k["key"]).verify(statement.encode(),
                                                        base64.b64decode(sig["value"], validate=True))
            except (nacl.exceptions.BadSignatureError, ValueError):
                return "record %d: the cosigned head's signature does not verify" % seq
            nheads += 1
        elif action == "key_add":
            a = json.loads(after)
            raw = base64.b64decode(a["public_key"], validate=True)
            if hashlib.sha256(raw).hexdigest() != a["fingerprint"] or a["user"] != r["user"]:
                return "record %d: a key whose fingerprint or user is wrong" % seq
            keys[a["fingerprint"]] = {"user": a["user"], "key": raw, "revoked": False}
            holders.add(a["user"])
        elif action == "key_revoke":
            a = json.loads(after)
            k = keys.get(a["fingerprint"])
            if not k or k["user"] != r["user"]:
                return "record %d: revokes an unknown key" % seq
            k["revoked"] = True
        elif action in ("ack", "dispute", "ruling"):
            a = json.loads(after)
            ruling = action == "ruling"
            sig = a.get("signature")
            if not sig:
                if r["user"] in holders:
                    return "record %d: an unsigned answer by %s, who has a key" % (seq, r["user"])
                continue
            k = keys.get(sig["key"])
            if not k or k["user"] != r["user"] or k["revoked"]:
                return "record %d: signed with a key that is not its user's current key" % seq
            vh = versions.get((r["collection"], r["item"], r["version"]))
            if vh is None:
                return "record %d: answers a version no earlier record holds" % seq
            statement = jcs({
                "at": sig["at"], "collection": r["collection"],
                "comment_sha256": sha256_hex(a.get("reason" if ruling else "comment") or ""),
                "decision": a["decision"] if ruling else action, "item": r["item"],
                "party": r["party"],
                "purpose": "fusionmap ruling" if ruling else "fusionmap answer",
                "user": r["user"], "version": r["version"], "version_sha256": vh,
            })
            try:
                nacl.signing.VerifyKey(k["key"]).verify(statement.encode(),
                                                        base64.b64decode(sig["value"], validate=True))
            except (nacl.exceptions.BadSignatureError, ValueError):
                return "record %d: the signature does not verify" % seq
            nsigned += 1
    if bundle:
        if not any(r.get("action") in VERSION_ACTIONS and r.get("collection") == bundle["collection"]
                   and r.get("item") == bundle["item"] for r in lines):
            return "the bundle holds no version of the item it names (%s/%s)" \
                % (bundle["collection"], bundle["item"])
        if bundle["head"] != {"seq": count, "hash": prev}:
            return "the bundle's head is not its last record's"
        pic = bundle.get("picture")
        if pic is not None:
            try:
                png = base64.b64decode(pic["png"], validate=True)
            except (ValueError, KeyError, TypeError):
                png = b""
            if not png.startswith(b"\x89PNG\r\n\x1a\n") \
                    or hashlib.sha256(png).hexdigest() != pic.get("sha256"):
                return "the bundle's picture is not the PNG its digest names"
        full = sum(1 for r in lines if "action" in r)
        print("ok: evidence of %s/%d for %s (%s): %d records (%d in full, %d of chain v1 as"
              " given), %d signed answers verify, %d cosigned heads hold"
              % (bundle["collection"], bundle["item"], bundle["for"]["user"],
                 bundle["for"]["party"], count, full, given, nsigned, nheads))
        return None
    if not closed:
        return "the export has no closing line"
    print("ok: %d records, %d signed answers verify, %d cosigned heads hold"
          % (count, nsigned, nheads))
    return None


if __name__ == "__main__":
    bad = main(sys.argv[1])
    if bad:
        print("BROKEN: " + bad)
        sys.exit(1)
