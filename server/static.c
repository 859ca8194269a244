/* static.c - the viewer's files under /static/, and the viewer itself at
 * GET / and /login. Nothing outside the web folder is reachable: every
 * path segment is checked (MHD has already percent-decoded it), and the
 * resolved path must still lie inside the folder. */
#include "srv.h"

#include <microhttpd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".map", "application/json"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof *mime; i++)
        if (strcmp(dot, mime[i].ext) == 0) return mime[i].type;
    return "application/octet-stream";
}

static int segment_ok(const char *s)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || s[0] == '.') return 0;
    for (; *s; s++)
        if (*s == '\\' || (unsigned char)*s < 0x20) return 0;
    return 1;
}

static int send_file(struct req *r, const char *rel, const char *cache)
{
    const char *root = srv_cfg(r)->web_dir;
    char path[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path)
        return srv_problem_status(r, 404, "no such file", NULL);
    if (!realpath(root, real_root) || !realpath(path, real))
        return srv_problem_status(r, 404, "no such file", NULL);
    size_t rl = strlen(real_root);
    if (strncmp(real, real_root, rl) != 0 || real[rl] != '/')
        return srv_problem_status(r, 404, "no such file", NULL);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return srv_problem_status(r, 404, "no such file", NULL);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type_of(real));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: blob:;"
                            " style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    return ret;
}

int h_static(struct req *r, const char *const *p, int n)
{
    char rel[1024] = "";
    size_t used = 0;
    for (int i = 1; i < n; i++) {
        if (!segment_ok(p[i])) return srv_problem_status(r, 404, "no such file", NULL);
        int w = snprintf(rel + used, sizeof rel - used, "%s%s", i > 1 ? "/" : "", p[i]);
        if (w < 0 || (size_t)w >= sizeof rel - used)
            return srv_problem_status(r, 404, "no such file", NULL);
        used += (size_t)w;
    }
    return send_file(r, rel, "no-cache");
}

int h_viewer(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return send_file(r, "index.html", "no-cache");
}

int h_wall(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return send_file(r, "wall.html", "no-cache");
}
