#!/usr/bin/python3
"""compare.py EXPECTED GOT [--tol 1e-7] [--fields a,b,c] [--key title]

Reads two vector files with GDAL/OGR (any format it opens; every layer),
pairs their features by the key field, and checks that both hold the same
features, that each pair's geometry agrees vertex by vertex within tol
degrees (after making both multi-geometries of their family and
normalising ring order and orientation), and that the listed fields are
equal (numbers compared as numbers, missing == empty). Prints every
difference; exits 1 if there is any.
"""
import sys
from osgeo import gdal, ogr

ogr.UseExceptions()
gdal.UseExceptions()

args = sys.argv[1:]
tol, fields, key = 1e-7, [], "title"
paths = []
i = 0
while i < len(args):
    if args[i] == "--tol":
        tol = float(args[i + 1]); i += 2
    elif args[i] == "--fields":
        fields = [f for f in args[i + 1].split(",") if f]; i += 2
    elif args[i] == "--key":
        key = args[i + 1]; i += 2
    else:
        paths.append(args[i]); i += 1
if len(paths) != 2:
    sys.exit(__doc__)


def multi(g):
    g = g.Clone()
    g.FlattenTo2D()
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
        g = ogr.ForceToMultiPolygon(g)
    elif t in (ogr.wkbLineString, ogr.wkbMultiLineString):
        g = ogr.ForceToMultiLineString(g)
    elif t in (ogr.wkbPoint, ogr.wkbMultiPoint):
        g = ogr.ForceToMultiPoint(g)
    return g.Normalize()  # a new geometry: GEOS's canonical ring order and start


def coords(g):
    out = []
    if g.GetGeometryCount() == 0:
        out.extend(g.GetPoints() or [])
    for k in range(g.GetGeometryCount()):
        out.extend(coords(g.GetGeometryRef(k)))
    return out


def read(path):
    # GeoJSON times stay the strings they are (no DateTime round trip)
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["DATE_AS_STRING=YES"] if path.endswith("json") else [])
    if ds is None:
        sys.exit("cannot open " + path)
    feats = {}
    for li in range(ds.GetLayerCount()):
        lyr = ds.GetLayer(li)
        if lyr.GetName() in ("route_points", "track_points"):
            continue
        names = [lyr.GetLayerDefn().GetFieldDefn(k).GetName() for k in range(lyr.GetLayerDefn().GetFieldCount())]
        for f in lyr:
            props = {n: f.GetField(n) for n in names}
            k = props.get(key) or props.get("name") or props.get("Name")
            if f.GetGeometryRef() is None:
                continue
            feats[k] = (multi(f.GetGeometryRef()), props)
    return feats


def norm(v):
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


a, b = read(paths[0]), read(paths[1])
bad = 0
if sorted(map(str, a)) != sorted(map(str, b)):
    print("features differ: only in expected %s; only in got %s" %
          (sorted(set(map(str, a)) - set(map(str, b))), sorted(set(map(str, b)) - set(map(str, a)))))
    bad += 1
for k in a:
    if k not in b:
        continue
    (ga, pa), (gb, pb) = a[k], b[k]
    ca, cb = coords(ga), coords(gb)
    if len(ca) != len(cb):
        print("%s: %d vertices expected, %d got" % (k, len(ca), len(cb)))
        bad += 1
    else:
        worst = max((max(abs(p[0] - q[0]), abs(p[1] - q[1])) for p, q in zip(ca, cb)), default=0)
        if worst > tol:
            print("%s: a vertex is %.3g degrees off (tolerance %g)" % (k, worst, tol))
            bad += 1
    for f in fields:
        if norm(pa.get(f)) != norm(pb.get(f)):
            print("%s: %s expected %r, got %r" % (k, f, pa.get(f), pb.get(f)))
            bad += 1
print("%d features compared, %d differences" % (len(a), bad))
sys.exit(1 if bad or not a else 0)
