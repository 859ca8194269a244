/* render_tool.c - writes tiles and a briefing image of the fixed scene
 * to PNG files, to look at and to (re)make the goldens:
 *   tile_render_tool OUT_DIR [BASEMAP] */
#include "fixture.h"

#include <stdio.h>

static int write_file(const char *dir, const char *name, const unsigned char *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) return 1;
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_source src = fx_source_of(&fx);
    struct tile_basemap *bm = NULL;
    struct fm_err err;
    if (argc > 2 && tile_basemap_load(argv[2], &bm, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    static const struct {
        int z;
        long x, y;
        int scale;
    } t[] = {{10, 613, 412, 1}, {10, 613, 412, 2}, {11, 1227, 824, 1}, {9, 306, 206, 1},
             {12, 2455, 1649, 1}, {6, 38, 25, 1}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        unsigned char *png;
        size_t len;
        if (tile_render(&src, bm, TILE_LAYER_ALL, t[i].z, t[i].x, t[i].y, t[i].scale, &png, &len,
                        &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "all-%d-%ld-%ld@%d.png", t[i].z, t[i].x, t[i].y, t[i].scale);
        write_file(argv[1], name, png, len);
        free(png);
    }
    struct tile_map_request req = {{35.55, 32.6, 36.25, 33.35}, 1200, 900, 1u << TILE_LAYER_ALL,
                                   "Fixture: every style", 1795000000, 0, TILE_GRID_DEGREES, NULL};
    unsigned char *png;
    size_t len;
    if (tile_map_render(&src, bm, &req, &png, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    write_file(argv[1], "map.png", png, len);
    free(png);
    tile_basemap_free(bm);
    return 0;
}
