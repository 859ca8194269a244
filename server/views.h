/* views.h - the collections as OGC API - Features offers them: the three
 * item collections, the conflicts, and views that hold one family of
 * geometries each (GDAL and QGIS type a layer by one geometry type: a
 * collection of 55 points and one area was drawn as one area). A view is
 * read only and answers exactly what its collection would, restricted
 * to Points/MultiPoints, LineStrings/MultiLineStrings or
 * Polygons/MultiPolygons. */
#ifndef SRV_VIEWS_H
#define SRV_VIEWS_H

#include "srv.h"

struct srv_coll {
    const char *id;       /* as in /collections/{id} */
    int conflicts;        /* 1: of the conflicts, else of coll */
    enum data_coll coll;
    enum data_geom geom;  /* DATA_GEOM_ANY: the whole collection */
};

/* The collection or view named id, or NULL. */
const struct srv_coll *srv_coll_find(const char *id);

/* conflicts.c: GET /collections/{id}/items for the conflicts or one of
 * their views (path: that collection's items path). */
int srv_conflicts_items(struct req *r, enum data_geom g, const char *path);
/* The geometry family of a GeoJSON geometry type (DATA_GEOM_ANY: none). */
enum data_geom srv_geom_family(const char *geojson_type);

#endif
