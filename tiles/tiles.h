/* tiles.h - raster map tiles and briefing images.
 *
 * (layer, z, x, y, scale, what the viewer may see, as-of time) in, PNG
 * bytes out. Web Mercator (EPSG:3857) XYZ tiles, drawn with Cairo, labels
 * shaped by Pango/HarfBuzz (Arabic and Hebrew right to left), an offline
 * basemap read with GDAL, and a bounded LRU cache of rendered tiles.
 *
 * This module never speaks HTTP and never touches the store: it reads the
 * situation through a struct tile_source (function pointers) that the
 * caller wires to its data, so tests feed fixed features. Visibility and
 * as-of are the source's business; the cache key only records them.
 *
 * Threads: rendering functions are reentrant (each call has its own
 * surface). A tile_basemap is read-only after loading and may be shared.
 * A tile_cache is internally locked.
 */
#ifndef TILES_H
#define TILES_H

#include "fm.h"

#include <stddef.h>
#include <stdint.h>

/* ---- layers ------------------------------------------------------------ */

enum tile_layer {
    TILE_LAYER_ZONES,
    TILE_LAYER_INCIDENTS,
    TILE_LAYER_MOVEMENTS,
    TILE_LAYER_CONFLICTS, /* found by the server: the overlap of two items */
    TILE_LAYER_BASEMAP,
    TILE_LAYER_ALL, /* basemap + every item layer */
    TILE_LAYER_COUNT
};
/* Constant name ("zones"...). */
const char *tile_layer_name(enum tile_layer l);
/* FM_EINVAL for an unknown name. */
fm_rc tile_layer_parse(const char *s, enum tile_layer *out);

/* ---- tile math (spherical Web Mercator) -------------------------------- */

#define TILE_SIZE 256
#define TILE_MAX_ZOOM 22
#define TILE_MAX_LAT 85.0511287798066
#define TILE_EARTH_RADIUS 6378137.0
#define TILE_MERC_MAX 20037508.342789244 /* pi * R */

/* 1 when 0 <= z <= TILE_MAX_ZOOM and x, y are in [0, 2^z). */
int tile_valid(int z, long x, long y);
/* lon/lat (degrees) <-> Web Mercator metres. Latitude is clamped to
 * +-TILE_MAX_LAT. Exact formulas, cross-checked against PROJ in tests. */
void tile_lonlat_to_merc(double lon, double lat, double *mx, double *my);
void tile_merc_to_lonlat(double mx, double my, double *lon, double *lat);
/* The tile containing lon/lat at zoom z (edges belong to the east/south tile). */
void tile_from_lonlat(double lon, double lat, int z, long *x, long *y);
/* Bounds of tile z/x/y: minx, miny, maxx, maxy in metres / in degrees. */
void tile_bounds_merc(int z, long x, long y, double out[4]);
void tile_bounds_lonlat(int z, long x, long y, double out[4]);
/* Mercator metres per pixel of a TILE_SIZE tile at zoom z. */
double tile_resolution(int z);

/* ---- the feature source ------------------------------------------------ */

enum tile_coll { TILE_ZONE, TILE_INCIDENT, TILE_MOVEMENT, TILE_CONFLICT, TILE_COLL_COUNT };

/* One item as the renderer needs it. Every pointer is borrowed for the
 * duration of the callback; any string may be NULL. */
struct tile_feature {
    enum tile_coll coll;
    int64_t id;
    const char *party;    /* owner party code */
    const char *status;   /* conflicts: their state (open, resolved) */
    const char *type;     /* zone type, movement type, conflict kind */
    const char *title;    /* label text (UTF-8) */
    const char *category; /* incidents */
    int severity;         /* incidents, 1..5; 0 unknown */
    double corridor_width_m; /* movements; 0 none */
    const unsigned char *wkb; /* geometry, WKB (either byte order), lon/lat */
    size_t wkb_len;
    int overdue;     /* 1: its answer is overdue (drawn in amber, "OVERDUE" in its label) */
    int late_notice; /* 1: notified with less notice than the rules ask (its label says so) */
};

/* Return nonzero to stop. */
typedef int (*tile_feature_cb)(void *cb_ctx, const struct tile_feature *f);

struct tile_source {
    void *ctx;
    /* Calls cb for every item of coll the viewer may see whose extent
     * meets bbox (minlon, minlat, maxlon, maxlat); a movement's extent
     * includes half its corridor width (at most TILE_MAX_CORRIDOR_M). */
    fm_rc (*each)(void *ctx, enum tile_coll coll, const double bbox[4], tile_feature_cb cb,
                  void *cb_ctx, struct fm_err *err);
    /* The display colour of a party (0..1 each); returns 0 when unknown. */
    int (*party_colour)(void *ctx, const char *party, double rgb[3]);
    /* The display name of a party for legends, or NULL (may itself be NULL). */
    const char *(*party_name)(void *ctx, const char *party);
    /* Whose items are framed friend (MIL-STD-2525D): the viewer's own
     * party; NULL none. Every other party's items get frame_other, the
     * 2525D standard identity digit ('1' unknown, '3' friend, '4' neutral,
     * '5' suspect, '6' hostile; 0 neutral), as the viewer's symbols.js. */
    const char *own_party;
    char frame_other;
};

/* ---- basemap ----------------------------------------------------------- */

struct tile_basemap;
/* Loads country polygons from any vector file GDAL opens (the first
 * layer; a "name" field is used for labels). OUT *out. */
fm_rc tile_basemap_load(const char *path, struct tile_basemap **out, struct fm_err *err);
/* Takes NULL. */
void tile_basemap_free(struct tile_basemap *b);

/* ---- rendering --------------------------------------------------------- */

/* Pixels of margin around a tile inside which features are still drawn
 * (symbols and corridors crossing the edge), at scale 1. */
#define TILE_BUFFER_PX 32
/* Corridors are drawn at most this wide; the cache invalidates this far. */
#define TILE_MAX_CORRIDOR_M 10000.0

/* Renders tile z/x/y of layer at scale 1 (256 px) or 2 (512 px). basemap
 * may be NULL (sea and land are then left out). OUT *png, *len (free()). */
fm_rc tile_render(const struct tile_source *src, const struct tile_basemap *basemap,
                  enum tile_layer layer, int z, long x, long y, int scale, unsigned char **png,
                  size_t *len, struct fm_err *err);

#define TILE_MAP_MAX_PX 4096
#define TILE_MAP_MIN_PX 64

enum tile_grid { TILE_GRID_DEGREES, TILE_GRID_MGRS, TILE_GRID_NONE };

/* What a briefing sheet says beside the map, composed by the caller (the
 * server, for the viewer who asked: nothing here is looked up). Strings
 * are borrowed for the call; any may be NULL. */
struct tile_brief_list {
    const char *heading;      /* "Open conflicts in this frame" */
    const char *const *rows;  /* one line each (wrapped to the panel) */
    size_t nrows;             /* rows given */
    size_t total;             /* how many there are (>= nrows): the heading's count */
    const char *empty;        /* said when total is 0 */
};
#define TILE_BRIEF_LISTS 4
struct tile_brief {
    const char *marking;  /* the classification or release line, top and bottom
                           * (/map.png too: then only the marking is used) */
    int warn;             /* 1: the marking on amber (the page holds drafts) */
    struct tile_brief_list lists[TILE_BRIEF_LISTS];
    int nlists;
    const char *footer;   /* one line above the bottom marking (the log head) */
};

struct tile_map_request {
    double bbox[4];     /* minlon, minlat, maxlon, maxlat */
    int width, height;  /* pixels, TILE_MAP_MIN_PX..TILE_MAP_MAX_PX */
    unsigned layers;    /* bit (1u << enum tile_layer); ALL sets every bit */
    const char *title;  /* NULL: "Situation map" */
    fm_time at;         /* the time stamp printed (UTC) */
    int as_of;          /* 1: the picture is of the past ("as of" in the caption) */
    enum tile_grid grid; /* the coordinate grid drawn (0: degrees) */
    const struct tile_brief *brief; /* PDF only: marking bars, lists, footer; NULL none */
};

/* A briefing image: the map with title, UTC time stamp, scale bar, north
 * arrow, legend and a coordinate grid. FM_EINVAL for a bad bbox or size.
 * OUT *png, *len (free()). */
fm_rc tile_map_render(const struct tile_source *src, const struct tile_basemap *basemap,
                      const struct tile_map_request *req, unsigned char **png, size_t *len,
                      struct fm_err *err);

/* The same briefing as a one-page PDF (A4 landscape, vector, fonts
 * embedded), the drawing of req->width x req->height scaled onto the
 * page. OUT *pdf, *len (free()). */
fm_rc tile_map_render_pdf(const struct tile_source *src, const struct tile_basemap *basemap,
                          const struct tile_map_request *req, unsigned char **pdf, size_t *len,
                          struct fm_err *err);

/* ---- UTM and MGRS (mgrs.c) --------------------------------------------- */

/* The UTM zone of a position (1..60, with the Norway and Svalbard
 * exceptions) and the central meridian of a zone. */
int tile_utm_zone(double lon, double lat);
double tile_utm_central_lon(int zone);
/* WGS84 degrees <-> UTM metres in the given zone (north: false northing
 * 0; lat < 0 / south: 10,000,000). Valid within some 3,000 km of the
 * zone's meridian. */
void tile_utm_forward(int zone, double lon, double lat, double *e, double *n);
void tile_utm_inverse(int zone, int south, double e, double n, double *lon, double *lat);
/* The MGRS 100 km square letters of UTM e, n in zone (AA scheme). */
void tile_mgrs_square(int zone, double e, double n, char id[3]);
/* The MGRS latitude band letter ('Z' outside -80..84). */
char tile_mgrs_band(double lat);
/* "36S YB 12345 67890" with `digits` (1..5) per coordinate, truncated as
 * MGRS is. -1 (and "") outside -80..84 or for a bad argument. */
int tile_mgrs_format(double lon, double lat, int digits, char *out, size_t n);

/* ---- cache ------------------------------------------------------------- */

#define TILE_ETAG_LEN 24 /* "\"" + 16 hex + "\"" + NUL, rounded */
#define TILE_VIS_LEN 24

struct tile_key {
    enum tile_layer layer;
    int z;
    long x, y;
    int scale;
    char vis[TILE_VIS_LEN]; /* visibility class: whose drafts the viewer sees ("" none) */
    char own[TILE_VIS_LEN]; /* whose items are framed friend (the viewer's party; "" none) */
    int has_asof;
    fm_time asof;
};

struct tile_cache;
/* A cache holding at most max_bytes of PNG. OUT *out. */
fm_rc tile_cache_new(size_t max_bytes, struct tile_cache **out, struct fm_err *err);
void tile_cache_free(struct tile_cache *c);

/* The current generation of visibility class vis (a tile_key's vis; NULL
 * is ""): read it before rendering and hand it to put. Only invalidations
 * of that class (or of every class) move it. */
uint64_t tile_cache_generation(struct tile_cache *c, const char *vis);
/* 1 on a hit: OUT *png (a malloc'd copy, free()), *len and etag. 0 on a miss. */
int tile_cache_get(struct tile_cache *c, const struct tile_key *k, unsigned char **png,
                   size_t *len, char etag[TILE_ETAG_LEN]);
/* PNG bytes shared by the cache and the replies still sending them. */
struct tile_png {
    size_t len;
    unsigned char *data;
};
/* As tile_cache_get without the copy: OUT *png holds a reference, which
 * stays valid after the tile leaves the cache until tile_png_release. */
int tile_cache_share(struct tile_cache *c, const struct tile_key *k, struct tile_png **png,
                     char etag[TILE_ETAG_LEN]);
void tile_png_release(struct tile_png *png);
/* Stores a copy of png unless an invalidation of k's class happened since
 * gen (the picture may then be stale). Always fills etag (from the bytes). */
void tile_cache_put(struct tile_cache *c, const struct tile_key *k, const unsigned char *png,
                    size_t len, uint64_t gen, char etag[TILE_ETAG_LEN]);
/* Drops every cached tile of visibility class vis (NULL: of every class),
 * at every zoom, whose drawn area (the tile and its buffer, plus the
 * widest corridor) meets bbox (lon/lat); basemap tiles stay. Returns the
 * number dropped. The tiles of other classes, and their generations, are
 * left alone. */
size_t tile_cache_invalidate_bbox(struct tile_cache *c, const char *vis, const double bbox[4]);
/* Drops everything. */
void tile_cache_clear(struct tile_cache *c);
/* Counters for tests and logs. */
void tile_cache_stats(struct tile_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
                      uint64_t *misses);

/* The ETag of bytes, as put would compute it. */
void tile_etag(const unsigned char *png, size_t len, char etag[TILE_ETAG_LEN]);

/* ---- geometry helpers (for callers computing extents) ------------------ */

/* The lon/lat extent of a WKB geometry. FM_EINVAL when malformed. */
fm_rc tile_wkb_bbox(const unsigned char *wkb, size_t len, double bbox[4]);

#endif
