#!/usr/bin/env python3
"""openapi_routes.py ROUTES_C API_JSON: every route of the server's table
(server/routes.c) is documented in /api with its method, but for the pages
(the viewer's login page, the wall, static files). Prints the missing ones;
exit status 1 if any."""
import json
import re
import sys

PAGES = {("GET", "static/**"), ("GET", "login"), ("GET", "wall")}

# (a handler that only refuses, h_*_read_only, is no operation)
routes = [(m, p) for m, p, h in
          re.findall(r'^\s*\{"([A-Z]+)", "([^"]*)", [A-Z_]+, (h_\w+)\}', open(sys.argv[1]).read(), re.M)
          if not h.endswith("_read_only")]
doc = json.load(open(sys.argv[2]))
paths = doc["paths"]
missing = []
for method, pattern in routes:
    if (method, pattern) in PAGES:
        continue
    # a route's * is one segment; a documented {name} is one segment too
    want = re.compile("^/" + "/".join("[^/]+" if seg == "*" else re.escape(seg)
                                      for seg in pattern.split("/")) + "$" if pattern else "^/$")
    if not any(want.match(re.sub(r"\{[^}]+\}", "x", p)) and method.lower() in ops
               for p, ops in paths.items()):
        missing.append(f"{method} /{pattern}")
if not routes:
    missing.append("no routes read from " + sys.argv[1])
for m in missing:
    print("undocumented:", m)
sys.exit(1 if missing else 0)
