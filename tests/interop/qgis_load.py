"""Headless PyQGIS (QGIS 3.22, Debian's python3-qgis) against the running
server, as an analyst's QGIS would: an authentication configuration of the
Basic method (the user name, a token as the password), every collection
and view added as an OGC API - Features layer, the XYZ tiles as a raster
layer, a map rendered to a PNG. Prints one JSON object: per layer whether
it is valid and how many features QGIS read, and the rendered image's
colour count; the shell test compares them with the server's answers.

usage: QT_QPA_PLATFORM=offscreen python3 qgis_load.py URL USER TOKEN OUT.png LAYER...
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
profile = tempfile.mkdtemp(prefix="fm-qgis-")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = profile

from qgis.core import (  # noqa: E402
    QgsApplication, QgsAuthMethodConfig, QgsMapRendererSequentialJob, QgsMapSettings,
    QgsRasterLayer, QgsRectangle, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
    QgsProject, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

url, user, token, png = sys.argv[1:5]
names = sys.argv[5:]
app = QgsApplication([], False, profile)
QgsApplication.setPrefixPath("/usr", True)
app.initQgis()
out = {"layers": {}, "titles": {}}
auth = QgsApplication.authManager()
auth.setMasterPassword("fusionmap-test", True)
cfg = QgsAuthMethodConfig()
cfg.setMethod("Basic")
cfg.setName("fusionmap")
cfg.setConfig("username", user)
cfg.setConfig("password", token)
if not auth.storeAuthenticationConfig(cfg)[0]:
    print(json.dumps({"error": "could not store the Basic configuration"}))
    sys.exit(1)
authcfg = cfg.id()
layers = []
for name in names:
    lyr = QgsVectorLayer(f"url='{url}' typename='{name}' authcfg='{authcfg}'", name, "OAPIF")
    n = -1
    titles = []
    if lyr.isValid():
        n = 0
        for f in lyr.getFeatures():
            n += 1
            if "title" in f.fields().names():
                titles.append(str(f["title"]))
        layers.append(lyr)
    out["layers"][name] = n
    out["titles"][name] = titles
tiles = QgsRasterLayer(f"type=xyz&url={url}/tiles/all/{{z}}/{{x}}/{{y}}.png&zmin=0&zmax=18&authcfg={authcfg}",
                       "tiles", "wms")
out["tiles_valid"] = tiles.isValid()
# a map of the data: the vector layers over the tiles, framed on the zones
settings = QgsMapSettings()
merc = QgsCoordinateReferenceSystem("EPSG:3857")
settings.setDestinationCrs(merc)
settings.setLayers(layers + ([tiles] if tiles.isValid() else []))
ext = QgsRectangle()
for lyr in layers:
    if lyr.featureCount() != 0:
        e = QgsCoordinateTransform(lyr.crs(), merc, QgsProject.instance()).transformBoundingBox(lyr.extent())
        ext.combineExtentWith(e)
ext.scale(1.3)
settings.setExtent(ext)
settings.setOutputSize(QSize(512, 512))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
img = job.renderedImage()
img.save(png, "PNG")
colours = set()
for y in range(0, img.height(), 4):
    for x in range(0, img.width(), 4):
        colours.add(img.pixel(x, y))
out["colours"] = len(colours)
out["errors"] = [f"{e.layerID}: {e.message}" for e in job.errors()]
print(json.dumps(out))
app.exitQgis()
