#!/usr/bin/env python3
"""openapi_check.py FILE - is FILE a well-formed OpenAPI 3.0 document as
fusionmap promises it? Exits 1 with the reasons when not.

Always checks the structure itself (no network, no schema download):
version, info, paths, operations with responses, every $ref resolving,
every {param} of a path declared, the security schemes and the problem
answers. When openapi-spec-validator is installed (pip), it validates
against the OpenAPI 3.0 schema too, and says which checks ran."""
import json
import re
import sys

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PUBLIC = {"/", "/api", "/conformance"}


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def structure(doc):
    bad = []
    if not re.fullmatch(r"3\.0\.\d+", str(doc.get("openapi", ""))):
        bad.append("openapi is not 3.0.x")
    info = doc.get("info", {})
    if not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        bad.append("info needs title and version strings")
    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        return bad + ["no paths"]
    found = []
    refs(doc, found)
    for r in found:
        if resolve(doc, r) is None:
            bad.append("unresolved $ref " + r)
    schemes = doc.get("components", {}).get("securitySchemes", {})
    want = {"bearer": ("http", "bearer"), "basic": ("http", "basic")}
    for name, (typ, scheme) in want.items():
        s = schemes.get(name, {})
        if s.get("type") != typ or s.get("scheme") != scheme:
            bad.append("securityScheme %s is not %s/%s" % (name, typ, scheme))
    c = schemes.get("cookie", {})
    if c.get("type") != "apiKey" or c.get("in") != "cookie" or not c.get("name"):
        bad.append("securityScheme cookie is not an apiKey in a cookie")
    for name in (doc.get("security") or [{}])[0:3]:
        for k in name:
            if k not in schemes:
                bad.append("security names an undeclared scheme " + k)
    for path, item in paths.items():
        if not path.startswith("/"):
            bad.append("path %s does not start with /" % path)
        for method, op in item.items():
            if method not in METHODS:
                bad.append("%s: %s is not a method" % (path, method))
                continue
            resp = op.get("responses")
            if not isinstance(resp, dict) or not resp:
                bad.append("%s %s: no responses" % (method, path))
                continue
            for code in resp:
                if not re.fullmatch(r"[1-5]\d\d|default|[1-5]XX", code):
                    bad.append("%s %s: response %s is not a status" % (method, path, code))
            need = {"400", "404"}
            if path not in PUBLIC:
                need |= {"401", "403"}
            if method != "get":
                need |= {"409"}
            # 412 where If-Match is read, 428 where it is required
            im = [p for p in op.get("parameters", []) if p.get("name") == "If-Match" and p.get("in") == "header"]
            if im:
                need |= {"412"} | ({"428"} if im[0].get("required") else set())
            for code in sorted({"412", "428"} - need):
                if code in resp:
                    bad.append("%s %s: %s is documented but the operation takes no%s If-Match" %
                               (method, path, code, " required" if code == "428" else ""))
            for code in sorted(need - set(resp)):
                bad.append("%s %s: the %s problem is not documented" % (method, path, code))
            declared = {(p.get("name"), p.get("in")) for p in op.get("parameters", [])}
            for p in op.get("parameters", []):
                if p.get("in") not in ("query", "header", "path", "cookie"):
                    bad.append("%s %s: parameter %s in %s" % (method, path, p.get("name"), p.get("in")))
                if p.get("in") == "path" and p.get("required") is not True:
                    bad.append("%s %s: path parameter %s not required" % (method, path, p.get("name")))
            for name in re.findall(r"\{([^}]+)\}", path):
                if (name, "path") not in declared:
                    bad.append("%s %s: {%s} is not declared" % (method, path, name))
    for code in ("400", "401", "403", "404", "409", "412", "413", "429"):
        r = doc.get("components", {}).get("responses", {}).get(code, {})
        if "application/problem+json" not in r.get("content", {}):
            bad.append("components.responses.%s is not a problem+json answer" % code)
    return bad


def main():
    doc = json.load(open(sys.argv[1]))
    bad = structure(doc)
    ran = "structure"
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate:
        ran += " + openapi-spec-validator"
        try:
            validate(doc)
        except Exception as e:  # the validator's own error types vary by version
            bad.append("openapi-spec-validator: %s" % str(e).splitlines()[0])
    for b in bad:
        print("openapi_check:", b)
    print("openapi_check: checked (%s): %s" % (ran, "bad" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
