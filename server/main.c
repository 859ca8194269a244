/* main.c - the fusionmap command line: serve, party, user, token, events. */
#include "srv.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage:\n"
    "  fusionmap serve  [--db FILE] [--bind ADDR] [--port N] [--demo] [--web DIR]\n"
    "                   [--threads N] [--max-body BYTES] [--max-vertices N]\n"
    "                   [--max-connections N] [--max-per-ip N] [--timeout SECONDS]\n"
    "                   [--public-url URL] [--session-idle S] [--session-max S]\n"
    "                   [--login-failures N] [--login-delay-max S] [--login-delay-unit-ms MS]\n"
    "                   [--tls-cert PEM --tls-key PEM] [--max-import-features N]\n"
    "                   [--marking TEXT] (the line atop and below each /map.pdf;\n"
    "                   or FUSIONMAP_MARKING)\n"
    "                   [--frame-other neutral|unknown|suspect|hostile|friend] (the symbol\n"
    "                   frame of items not the viewer's own; neutral by default)\n"
    "                   [--cors-origin ORIGIN]... (pages of ORIGIN may call the API with a\n"
    "                   token: scheme://host[:port], repeatable, up to 16)\n"
    "                   [--cot-port N [--cot-bind ADDR]] (Cursor-on-Target for TAK on plain\n"
    "                   TCP, 127.0.0.1 by default: a client sends its token on the first\n"
    "                   line and gets GET /cot/stream)\n"
    "                   [--cot-tls-cert PEM --cot-tls-key PEM [--cot-tls-ca PEM]] (that\n"
    "                   port speaks TLS; with a CA, clients present a certificate it signed)\n"
    "                   [--conflict-recheck S] (seconds between re-checks of every conflict,\n"
    "                   60; or FM_CONFLICT_RECHECK_S) [--incident-near M] (metres: an incident\n"
    "                   this near a movement under way is a conflict, 1000; or FM_INCIDENT_NEAR_M)\n"
    "                   [--help]\n"
    "                   (logins: after N (5) failures of one account from one address,\n"
    "                   waits of 1, 2, 4, ... s; at most S (120) s for the account's new\n"
    "                   addresses together, S/4 for an address or browser it has logged\n"
    "                   in from; MS (1000): the length of that second, for tests)\n"
    "  fusionmap party add CODE --name NAME --colour #RRGGBB --kind side|supervisor [--db FILE]\n"
    "  fusionmap user add NAME --party P --role liaison|supervisor|viewer|admin\n"
    "                   [--password-stdin] [--db FILE]   (else prints a generated password)\n"
    "  fusionmap token add NAME [--db FILE]              (prints a bearer token)\n"
    "  fusionmap events verify [--db FILE] [--against EXPORT]   (the database's log)\n"
    "  fusionmap events verify --file EXPORT|BUNDLE             (an export or an evidence\n"
    "                   bundle, offline: no database)\n"
    "  fusionmap events verify --db FILE --head HEADS.json      (against heads you cosigned)\n"
    "  fusionmap events export [--db FILE] [--out EXPORT]\n"
    "  fusionmap evidence export --item COLL/ID --party P [--user NAME] [--out FILE] [--db FILE]\n"
    "                   (the item's evidence bundle as that user sees it; check it with\n"
    "                   events verify --file or tests/verify_export.py, anywhere)\n"
    "  fusionmap key new --out FILE     (an Ed25519 signing key, mode 0600; prints its\n"
    "                   public half as {\"public_key\", \"fingerprint\"}, for POST /keys)\n"
    "  fusionmap key show --key FILE    (the same for an existing key file)\n"
    "  fusionmap sign --key FILE        (signs the statement on stdin: base64 signature)\n"
    "  fusionmap import FILE --collection C --party P [--user NAME] [--format F]\n"
    "                   [--dry-run] [--skip-bad] [--max-features N] [--db FILE]\n"
    "                   (as --user, else the party's first liaison; drafts of P)\n"
    "  fusionmap export --collection C --format geojson|kml|gpx|gpkg|shp|csv\n"
    "                   [--at TIME] [--party P] [--out FILE] [--db FILE]\n"
    "                   (no drafts; with --party, that party's own drafts too)\n"
    "  fusionmap rules show [--db FILE]                 (the lead-time rules in force)\n"
    "  fusionmap rules set --collection C [--type T] [--notice D] [--urgent-notice D]\n"
    "                   [--answer D] [--answer-before D] [--db FILE]\n"
    "                   (D: seconds, or 90s, 30m, 48h, 2d; type * (default): every type)\n"
    "  fusionmap copy --from DB --to DB   (moves a cell to another database, with its\n"
    "                   history and its chain, and checks the copy; the destination must\n"
    "                   hold no cell yet)\n"
    "Every command takes --db DB; the default is fusionmap.db in the current folder. DB is\n"
    "a SQLite file or a postgresql:// URL.\n";

static int die(const char *what, const struct fm_err *err)
{
    fprintf(stderr, "fusionmap: %s: %s\n", what, err->msg);
    return 1;
}

static int bad_usage(const char *msg)
{
    fprintf(stderr, "fusionmap: %s\n%s", msg, usage);
    return 2;
}

/* An origin as a browser sends it in Origin: "http" or "https", "://", a
 * host of letters, digits, dots, hyphens (or an IPv6 address in
 * brackets), and an optional ":port"; nothing after. */
static int cors_origin_ok(const char *o)
{
    const char *h = strncmp(o, "http://", 7) == 0    ? o + 7
                    : strncmp(o, "https://", 8) == 0 ? o + 8
                                                     : NULL;
    if (!h || !*h || strlen(o) > 200) return 0;
    const char *c = h;
    if (*c == '[') {
        while (*++c && *c != ']')
            if (!strchr("0123456789abcdefABCDEF:.", *c)) return 0;
        if (*c++ != ']' || c == h + 2) return 0;
    } else {
        for (; *c && *c != ':'; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
                return 0;
        if (c == h) return 0;
    }
    if (*c == '\0') return 1;
    if (*c++ != ':' || !*c) return 0;
    long port = 0;
    for (; *c; c++) {
        if (*c < '0' || *c > '9') return 0;
        port = port * 10 + (*c - '0');
        if (port > 65535) return 0;
    }
    return port > 0;
}

static int parse_num(const char *s, long min, long max, long *out, const char *flag)
{
    if (fm_parse_long(s, min, max, out) == FM_OK) return 1;
    fprintf(stderr, "fusionmap: %s takes a whole number from %ld to %ld\n", flag, min, max);
    return 0;
}

/* metres, more than 0 and up to 1000000 (data_conflicts_set_near's range) */
static int parse_metres(const char *s, double *out, const char *flag)
{
    if (fm_parse_double(s, out) == FM_OK && *out > 0 && *out <= 1e6) return 1;
    fprintf(stderr, "fusionmap: %s takes metres, more than 0 and up to 1000000, not %s\n", flag, s);
    return 0;
}

/* ---- serve -------------------------------------------------------------- */

static void print_demo_logins(void)
{
    printf("demo logins (user / password):\n"
           "  liaison-a  / liaison-a    side A liaison\n"
           "  liaison-b  / liaison-b    side B liaison\n"
           "  supervisor / supervisor   supervisor (SUP)\n"
           "  viewer     / viewer       read only\n"
           "  admin      / admin        administrator\n");
}

/* glibc gives threads that meet on a lock arenas of their own, up to 8
 * per core, and each keeps what its thread freed: with 8 workers drawing
 * tiles that was 57 MB of the peak after one sweep of z14 (issue 23). One
 * arena per core (at least 2) costs no measurable time there. Before any
 * thread starts; MALLOC_ARENA_MAX in the environment still wins. */
static void limit_arenas(void)
{
    if (getenv("MALLOC_ARENA_MAX")) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, cores < 2 ? 2 : (int)cores);
}

static int cmd_serve(int argc, char **argv)
{
    limit_arenas();
    struct srv_config cfg;
    srv_config_default(&cfg);
    int demo = 0;
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},           {"bind", required_argument, 0, 'b'},
        {"port", required_argument, 0, 'p'},         {"demo", no_argument, 0, 'D'},
        {"web", required_argument, 0, 'w'},          {"threads", required_argument, 0, 't'},
        {"max-body", required_argument, 0, 'B'},     {"max-vertices", required_argument, 0, 'V'},
        {"max-connections", required_argument, 0, 'C'},
        {"max-per-ip", required_argument, 0, 'I'},   {"timeout", required_argument, 0, 'T'},
        {"public-url", required_argument, 0, 'u'},   {"basemap", required_argument, 0, 'm'},
        {"session-idle", required_argument, 0, 's'}, {"session-max", required_argument, 0, 'S'},
        {"login-failures", required_argument, 0, 'L'},
        {"login-delay-max", required_argument, 0, 'X'},
        {"login-delay-unit-ms", required_argument, 0, 'U'},
        {"tls-cert", required_argument, 0, 'c'},     {"tls-key", required_argument, 0, 'k'},
        {"max-import-features", required_argument, 0, 'F'},
        {"cors-origin", required_argument, 0, 'O'},
        {"marking", required_argument, 0, 'K'},
        {"frame-other", required_argument, 0, 'G'},
        {"cot-port", required_argument, 0, 'P'},
        {"cot-bind", required_argument, 0, 'A'},
        {"cot-tls-cert", required_argument, 0, 1001},
        {"cot-tls-key", required_argument, 0, 1002},
        {"cot-tls-ca", required_argument, 0, 1003},
        {"conflict-recheck", required_argument, 0, 1004},
        {"incident-near", required_argument, 0, 1005},
        {"help", no_argument, 0, 1006},
        {0, 0, 0, 0}};
    long cot_port = -1;
    const char *cot_bind = "127.0.0.1";
    struct srv_cot_tls cot_tls = {0};
    int o;
    long v;
    const char *marking_env = getenv("FUSIONMAP_MARKING");
    /* environment knobs behind their options, read here only */
    const char *recheck_env = getenv("FM_CONFLICT_RECHECK_S"), *near_env = getenv("FM_INCIDENT_NEAR_M");
    if (recheck_env && !parse_num(recheck_env, 1, 86400, &cfg.conflict_recheck_s,
                                  "FM_CONFLICT_RECHECK_S"))
        return 2;
    if (near_env && !parse_metres(near_env, &cfg.incident_near_m, "FM_INCIDENT_NEAR_M")) return 2;
    if (marking_env && strlen(marking_env) <= 200) srv_tiles_set_marking(marking_env);
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': cfg.db_path = optarg; break;
        case 'b': cfg.bind = optarg; break;
        case 'p':
            if (!parse_num(optarg, 0, 65535, &v, "--port")) return 2;
            cfg.port = (int)v;
            break;
        case 'D': demo = 1; break;
        case 'w': cfg.web_dir = optarg; break;
        case 't':
            if (!parse_num(optarg, 1, 256, &v, "--threads")) return 2;
            cfg.threads = (int)v;
            break;
        case 'B':
            if (!parse_num(optarg, 1024, 1L << 30, &v, "--max-body")) return 2;
            cfg.max_body = (size_t)v;
            break;
        case 'V':
            if (!parse_num(optarg, 4, 10000000, &v, "--max-vertices")) return 2;
            cfg.limits.max_vertices = v;
            break;
        case 'C':
            if (!parse_num(optarg, 1, 100000, &v, "--max-connections")) return 2;
            cfg.max_connections = (unsigned)v;
            break;
        case 'I':
            if (!parse_num(optarg, 1, 100000, &v, "--max-per-ip")) return 2;
            cfg.max_per_ip = (unsigned)v;
            break;
        case 'T':
            if (!parse_num(optarg, 1, 86400, &v, "--timeout")) return 2;
            cfg.timeout_s = (unsigned)v;
            break;
        case 'u': cfg.public_url = optarg; break;
        case 's':
            if (!parse_num(optarg, 1, 365L * 86400, &v, "--session-idle")) return 2;
            cfg.session.idle_seconds = v;
            break;
        case 'S':
            if (!parse_num(optarg, 1, 365L * 86400, &v, "--session-max")) return 2;
            cfg.session.absolute_seconds = v;
            break;
        case 'L':
            if (!parse_num(optarg, 1, 100000, &v, "--login-failures")) return 2;
            cfg.login.account_failures = v;
            cfg.login.address_failures = 10 * v;
            break;
        case 'X':
            if (!parse_num(optarg, 1, 3600, &v, "--login-delay-max")) return 2;
            cfg.login.delay_max = v;
            break;
        case 'U':
            if (!parse_num(optarg, 1, 60000, &v, "--login-delay-unit-ms")) return 2;
            cfg.login.delay_unit_ms = v;
            break;
        case 'F':
            if (!parse_num(optarg, 1, 10000000, &v, "--max-import-features")) return 2;
            cfg.import_max_features = v;
            break;
        case 'O':
            if (!cors_origin_ok(optarg)) {
                fprintf(stderr,
                        "fusionmap: --cors-origin %s: give an origin as browsers send it,"
                        " scheme://host[:port] (http or https, no path, no \"*\")\n",
                        optarg);
                return 2;
            }
            if (cfg.ncors_origins == SRV_MAX_CORS_ORIGINS)
                return bad_usage("at most 16 --cors-origin");
            cfg.cors_origins[cfg.ncors_origins++] = optarg;
            break;
        case 'G':
            if (srv_vocabulary_set_frame_other(optarg) != 0)
                return bad_usage("--frame-other is unknown, friend, neutral, suspect or hostile");
            break;
        case 'K':
            if (strlen(optarg) > 200) return bad_usage("--marking is at most 200 bytes");
            srv_tiles_set_marking(optarg);
            break;
        case 'P':
            if (!parse_num(optarg, 0, 65535, &cot_port, "--cot-port")) return 2;
            break;
        case 'A': cot_bind = optarg; break;
        case 1001: cot_tls.cert = optarg; break;
        case 1002: cot_tls.key = optarg; break;
        case 1003: cot_tls.ca = optarg; break;
        case 1004:
            if (!parse_num(optarg, 1, 86400, &cfg.conflict_recheck_s, "--conflict-recheck"))
                return 2;
            break;
        case 1005:
            if (!parse_metres(optarg, &cfg.incident_near_m, "--incident-near")) return 2;
            break;
        case 1006: fputs(usage, stdout); return 0;
        case 'c': cfg.tls_cert = optarg; break;
        case 'k': cfg.tls_key = optarg; break;
        case 'm':
            if (access(optarg, R_OK) != 0) {
                fprintf(stderr, "fusionmap: --basemap %s: cannot read it\n", optarg);
                return 2;
            }
            srv_tiles_configure(optarg, 0);
            break;
        default: return bad_usage("unknown option for serve");
        }
    }
    if (optind < argc) return bad_usage("serve takes no positional arguments");
    if ((cot_tls.cert || cot_tls.key || cot_tls.ca) && cot_port < 0)
        return bad_usage("--cot-tls-* need --cot-port");
    if (!cot_tls.cert != !cot_tls.key || (cot_tls.ca && !cot_tls.cert))
        return bad_usage("--cot-tls-cert and --cot-tls-key go together; --cot-tls-ca needs them");
    cot_tls.http_tls = cfg.tls_key != NULL;

    struct fm_err err;
    struct data_db *db;
    if (data_open(cfg.db_path, &db, &err)) return die(cfg.db_path, &err);
    if (demo) {
        int created;
        if (data_demo_seed(db, &created, &err)) {
            data_close(db);
            return die("demo", &err);
        }
        if (created) fm_log(FM_LOG_INFO, "demo data created in %s", cfg.db_path);
    }
    data_close(db);

    /* workers inherit this mask; the main thread waits for the signal */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct srv *s;
    if (srv_start(&cfg, &s, &err)) return die("serve", &err);
    printf("fusionmap listening on %s://%s:%d/\n", cfg.tls_key ? "https" : "http", cfg.bind,
           srv_port(s));
    if (demo) {
        print_demo_logins();
        /* a read-only token for the briefing wall, so that it opens at once */
        char token[DATA_TOKEN_LEN];
        if (data_open(cfg.db_path, &db, &err) == FM_OK) {
            if (data_token_new(db, "viewer", token, &err) == FM_OK)
                printf("briefing wall: %s://%s:%d/wall?token=%s\n", cfg.tls_key ? "https" : "http",
                       cfg.bind, srv_port(s), token);
            data_close(db);
        }
    }
    struct srv_cot_tcp *cot = NULL;
    if (cot_port >= 0) {
        if (srv_cot_tcp_start(cot_bind, (int)cot_port, cfg.bind, srv_port(s), &cot_tls, &cot,
                              &err)) {
            srv_stop(s);
            return die("serve", &err);
        }
        printf("CoT for TAK on %s://%s:%d (send your token on the first line%s)\n",
               srv_cot_tcp_tls(cot) ? "tls" : "tcp", cot_bind, srv_cot_tcp_port(cot),
               cot_tls.ca ? ", after a client certificate" : "");
    }
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    fm_log(FM_LOG_INFO, "signal %d: stopping", sig);
    srv_cot_tcp_stop(cot);
    srv_stop(s);
    return 0;
}

/* ---- party, user, token, events ---------------------------------------- */

static const char *db_path_opt(int argc, char **argv)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--db") == 0) return argv[i + 1];
    return "fusionmap.db";
}

static int open_db(int argc, char **argv, struct data_db **db)
{
    struct fm_err err;
    const char *path = db_path_opt(argc, argv);
    if (data_open(path, db, &err)) return die(path, &err);
    return 0;
}

static int cmd_party(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "add") != 0) return bad_usage("party add CODE ...");
    const char *name = NULL, *colour = "#888888", *kind = "side";
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"colour", required_argument, 0, 'c'},
                                         {"kind", required_argument, 0, 'k'},
                                         {"db", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 3;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'n') name = optarg;
        else if (o == 'c') colour = optarg;
        else if (o == 'k') kind = optarg;
        else if (o != 'd') return bad_usage("unknown option for party add");
    }
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    fm_rc rc = data_party_add(db, argv[2], name ? name : argv[2], colour, kind, &err);
    data_close(db);
    return rc ? die("party add", &err) : 0;
}

static int cmd_user(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "add") != 0) return bad_usage("user add NAME ...");
    const char *party = NULL, *role_s = NULL;
    int from_stdin = 0;
    static const struct option opts[] = {{"party", required_argument, 0, 'p'},
                                         {"role", required_argument, 0, 'r'},
                                         {"password-stdin", no_argument, 0, 's'},
                                         {"db", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 3;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'p') party = optarg;
        else if (o == 'r') role_s = optarg;
        else if (o == 's') from_stdin = 1;
        else if (o != 'd') return bad_usage("unknown option for user add");
    }
    enum data_role role;
    if (!party || !role_s) return bad_usage("user add needs --party and --role");
    if (data_role_parse(role_s, &role))
        return bad_usage("--role is liaison, supervisor, viewer or admin");
    char password[256];
    if (from_stdin) {
        if (!fgets(password, sizeof password, stdin)) return bad_usage("no password on stdin");
        password[strcspn(password, "\r\n")] = '\0';
    } else {
        unsigned char raw[12];
        if (fm_random(raw, sizeof raw)) return 1;
        fm_hex(raw, sizeof raw, password);
    }
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    fm_rc rc = data_user_add(db, argv[2], party, role, password, &err);
    data_close(db);
    if (rc) return die("user add", &err);
    if (!from_stdin) printf("%s\n", password);
    return 0;
}

static int cmd_token(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "add") != 0) return bad_usage("token add NAME");
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    char token[DATA_TOKEN_LEN];
    fm_rc rc = data_token_new(db, argv[2], token, &err);
    data_close(db);
    if (rc) return die("token add", &err);
    printf("%s\n", token);
    return 0;
}

static int report_verify(fm_rc rc, int64_t bad, int64_t count, const struct fm_err *err)
{
    if (rc) return die("events verify", err);
    if (bad) {
        printf("BROKEN at record %lld (read %lld): %s\n", (long long)bad, (long long)count,
               err->msg);
        return 1;
    }
    printf("ok: %lld records, the chain is intact\n", (long long)count);
    return 0;
}

/* a bundle's label, or "?" (the labels are not checked) */
static const char *text_or(const json_t *j)
{
    return json_is_string(j) ? json_string_value(j) : "?";
}

static int cmd_events(int argc, char **argv)
{
    const char *file = NULL, *against = NULL, *out_path = NULL, *head = NULL;
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"file", required_argument, 0, 'f'},
                                         {"against", required_argument, 0, 'a'},
                                         {"out", required_argument, 0, 'o'},
                                         {"head", required_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    if (argc < 2) return bad_usage("events verify|export");
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'f') file = optarg;
        else if (o == 'a') against = optarg;
        else if (o == 'o') out_path = optarg;
        else if (o == 'h') head = optarg;
        else if (o != 'd') return bad_usage("unknown option for events");
    }
    struct fm_err err;
    fm_err_clear(&err);
    int64_t bad = 0, count = 0;
    json_t *bundle = NULL;
    if (!strcmp(argv[1], "verify") && file && data_bundle_read(file, &bundle)) {
        /* an evidence bundle, offline: as tests/verify_export.py checks it */
        struct data_bundle_check bc;
        fm_rc rc = data_bundle_verify(bundle, &bc, &err);
        int ret = rc ? die("events verify", &err) : bc.bad ? 1 : 0;
        if (!rc && bc.bad) printf("BROKEN at record %lld: %s\n", (long long)bc.bad, err.msg);
        if (!rc && !bc.bad)
            printf("ok: evidence of %s/%lld for %s (%s): %lld records (%lld in full, %lld of"
                   " chain v1 as given), %lld signed answers verify, %lld cosigned heads hold\n",
                   text_or(json_object_get(bundle, "collection")),
                   (long long)json_integer_value(json_object_get(bundle, "item")),
                   text_or(json_object_get(json_object_get(bundle, "for"), "user")),
                   text_or(json_object_get(json_object_get(bundle, "for"), "party")),
                   (long long)bc.records, (long long)bc.full, (long long)bc.given,
                   (long long)bc.nsigned, (long long)bc.heads);
        json_decref(bundle);
        return ret;
    }
    if (!strcmp(argv[1], "verify") && file) { /* an export, offline: no database */
        int64_t nsigned = 0, heads = 0;
        fm_rc rc = data_events_verify_file_heads(file, &bad, &count, &heads, &err);
        /* and every signed answer against the keys its records register */
        if (!rc && !bad) rc = data_signatures_verify_file(file, &bad, &nsigned, &err);
        int ret = report_verify(rc, bad, count, &err);
        if (!ret) printf("ok: %lld signed answers verify\n", (long long)nsigned);
        if (!ret && heads) printf("ok: the chain passes through %lld cosigned heads\n", (long long)heads);
        return ret;
    }

    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    int ret;
    if (!strcmp(argv[1], "verify")) {
        int64_t heads = 0, mine = 0;
        fm_rc rc = data_events_verify_heads(db, &bad, &count, &heads, &err);
        if (!rc && !bad && against) rc = data_events_verify_against(db, against, &bad, &count, &err);
        if (!rc && !bad && head) rc = data_events_check_head(db, head, &bad, &mine, &err);
        ret = report_verify(rc, bad, count, &err);
        if (!ret && heads) printf("ok: the chain passes through %lld cosigned heads\n", (long long)heads);
        if (!ret && head) printf("ok: %lld heads of %s hold\n", (long long)mine, head);
    } else if (!strcmp(argv[1], "export")) {
        FILE *out = out_path ? fopen(out_path, "w") : stdout;
        if (!out) {
            fprintf(stderr, "fusionmap: cannot write %s\n", out_path);
            ret = 1;
        } else {
            fm_rc rc = data_events_export(db, out, &count, &err);
            if (out != stdout && fclose(out) != 0 && !rc)
                rc = fm_fail(&err, FM_EIO, NULL, "cannot write %s", out_path);
            ret = rc ? die("events export", &err) : 0;
            if (!rc) fprintf(stderr, "exported %lld records\n", (long long)count);
        }
    } else {
        ret = bad_usage("events verify|export");
    }
    data_close(db);
    return ret;
}

/* ---- moving a cell ----------------------------------------------------------- */

struct copy_shown {
    char table[32];
    int64_t shown;
};

/* A line for each 50,000 rows of a table: a long copy shows it moves. */
static void copy_progress(void *ctx, const char *table, int64_t rows)
{
    struct copy_shown *c = ctx;
    if (strcmp(c->table, table)) snprintf(c->table, sizeof c->table, "%s", table), c->shown = 0;
    if (rows - c->shown >= 50000) {
        fprintf(stderr, "copy: %s: %lld rows\n", table, (long long)rows);
        c->shown = rows;
    }
}

static int cmd_copy(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'f') from = optarg;
        else if (o == 't') to = optarg;
        else return bad_usage("unknown option for copy");
    }
    if (!from || !to || optind != argc) return bad_usage("copy --from DB --to DB");
    struct fm_err err;
    fm_err_clear(&err);
    struct data_copy_report rep;
    struct copy_shown shown = {"", 0};
    fm_rc rc = data_copy(from, to, &rep, copy_progress, &shown, &err);
    if (rc) return die("copy", &err);
    printf("copied %lld rows (%lld records of the log)\n", (long long)rep.rows,
           (long long)rep.events);
    return report_verify(FM_OK, rep.bad_seq, rep.verified, &err);
}

/* ---- evidence bundles ------------------------------------------------------ */

static int cmd_evidence(int argc, char **argv)
{
    const char *item = NULL, *party = NULL, *user = NULL, *out_path = NULL;
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"item", required_argument, 0, 'i'},
                                         {"party", required_argument, 0, 'p'},
                                         {"user", required_argument, 0, 'u'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    if (argc < 2 || strcmp(argv[1], "export") != 0) return bad_usage("evidence export");
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'i') item = optarg;
        else if (o == 'p') party = optarg;
        else if (o == 'u') user = optarg;
        else if (o == 'o') out_path = optarg;
        else if (o != 'd') return bad_usage("unknown option for evidence");
    }
    char coll[32];
    long id = 0;
    const char *slash = item ? strchr(item, '/') : NULL;
    enum data_coll c;
    if (!slash || (size_t)(slash - item) >= sizeof coll || !party)
        return bad_usage("evidence export --item COLL/ID --party P");
    memcpy(coll, item, (size_t)(slash - item));
    coll[slash - item] = '\0';
    if (data_coll_parse(coll, &c) != FM_OK || fm_parse_long(slash + 1, 1, INT64_MAX, &id) != FM_OK)
        return bad_usage("--item is COLLECTION/ID, as zones/12");
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    struct data_viewer v;
    json_t *bundle = NULL;
    fm_rc rc = data_import_viewer(db, party, user, &v, &err);
    if (!rc) rc = data_evidence(db, &v, c, id, &bundle, &err);
    data_close(db);
    if (rc) return die("evidence export", &err);
    FILE *out = out_path ? fopen(out_path, "wx") : stdout;
    if (!out) {
        json_decref(bundle);
        fprintf(stderr, "fusionmap: cannot create %s (never overwritten)\n", out_path);
        return 1;
    }
    int bad = json_dumpf(bundle, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF;
    if (out != stdout) bad |= fclose(out) != 0;
    json_decref(bundle);
    if (bad) fprintf(stderr, "fusionmap: cannot write the bundle\n");
    return bad;
}

/* ---- keys and signatures -------------------------------------------------- */

static int cmd_key(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"key", required_argument, 0, 'k'},
                                         {0, 0, 0, 0}};
    if (argc < 2 || (strcmp(argv[1], "new") != 0 && strcmp(argv[1], "show") != 0))
        return bad_usage("key new --out FILE | key show --key FILE");
    int is_new = !strcmp(argv[1], "new"), o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((o == 'o' && is_new) || (o == 'k' && !is_new)) path = optarg;
        else return bad_usage(is_new ? "key new takes --out FILE" : "key show takes --key FILE");
    }
    if (!path || optind != argc)
        return bad_usage(is_new ? "key new takes --out FILE" : "key show takes --key FILE");
    struct fm_err err;
    fm_err_clear(&err);
    char pub[45], fp[65];
    fm_rc rc = is_new ? data_keyfile_new(path, pub, fp, &err) : data_keyfile_public(path, pub, fp, &err);
    if (rc) return die(is_new ? "key new" : "key show", &err);
    printf("{\"public_key\":\"%s\",\"fingerprint\":\"%s\"}\n", pub, fp);
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option opts[] = {{"key", required_argument, 0, 'k'}, {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'k') path = optarg;
        else return bad_usage("sign takes --key FILE");
    }
    if (!path || optind != argc) return bad_usage("sign --key FILE < STATEMENT");
    /* the statement, byte for byte (at most 64 KiB) */
    static char msg[65536 + 1];
    size_t n = fread(msg, 1, sizeof msg, stdin);
    if (n == sizeof msg) {
        fprintf(stderr, "fusionmap: sign: the statement is longer than 64 KiB\n");
        return 1;
    }
    if (n == 0) return bad_usage("sign: no statement on stdin");
    struct fm_err err;
    fm_err_clear(&err);
    char sig[89];
    if (data_keyfile_sign(path, msg, n, sig, &err)) return die("sign", &err);
    printf("%s\n", sig);
    return 0;
}

/* ---- import, export ------------------------------------------------------ */

static void print_progress(void *ctx, long done, long total)
{
    (void)ctx;
    fprintf(stderr, "\rimport: %ld / %ld features", done, total);
    if (done >= total) fputc('\n', stderr);
}

static int cmd_import(int argc, char **argv)
{
    const char *coll = NULL, *party = NULL, *user = NULL;
    struct data_import_opts o;
    data_import_opts_default(&o);
    static const struct option opts[] = {{"collection", required_argument, 0, 'c'},
                                         {"party", required_argument, 0, 'p'},
                                         {"user", required_argument, 0, 'u'},
                                         {"format", required_argument, 0, 'f'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"skip-bad", no_argument, 0, 's'},
                                         {"max-features", required_argument, 0, 'm'},
                                         {"db", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    int o_;
    long v;
    optind = 1;
    while ((o_ = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o_) {
        case 'c': coll = optarg; break;
        case 'p': party = optarg; break;
        case 'u': user = optarg; break;
        case 'f': o.format = optarg; break;
        case 'n': o.dry_run = 1; break;
        case 's': o.skip_bad = 1; break;
        case 'm':
            if (!parse_num(optarg, 1, 10000000, &v, "--max-features")) return 2;
            o.max_features = v;
            break;
        case 'd': break;
        default: return bad_usage("unknown option for import");
        }
    }
    if (optind != argc - 1) return bad_usage("import takes one FILE");
    enum data_coll c;
    if (!coll || data_coll_parse(coll, &c))
        return bad_usage("import needs --collection zones|incidents|movements");
    if (!party) return bad_usage("import needs --party P");
    o.progress = print_progress;
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    fm_err_clear(&err);
    struct data_viewer viewer;
    struct data_limits lim;
    data_limits_default(&lim);
    json_t *report = NULL;
    fm_rc rc = data_import_viewer(db, party, user, &viewer, &err);
    if (!rc) rc = data_import(db, &viewer, c, argv[optind], &o, &lim, &report, &err);
    data_close(db);
    if (rc) return die("import", &err);
    json_dumpf(report, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    int committed = json_is_true(json_object_get(report, "committed"));
    size_t created = json_array_size(json_object_get(report, "created"));
    size_t refused = json_array_size(json_object_get(report, "refused"));
    fprintf(stderr, "import: %zu %s, %zu refused%s\n", created,
            committed ? "created" : "would be created", refused,
            o.dry_run ? " (dry run: nothing written)"
                      : committed ? "" : " (nothing written: --skip-bad imports the rest)");
    json_decref(report);
    return committed || o.dry_run ? 0 : 1;
}

static int cmd_export(int argc, char **argv)
{
    const char *coll = NULL, *format = NULL, *at = NULL, *out_path = NULL, *party = NULL;
    static const struct option opts[] = {{"collection", required_argument, 0, 'c'},
                                         {"format", required_argument, 0, 'f'},
                                         {"at", required_argument, 0, 'a'},
                                         {"out", required_argument, 0, 'o'},
                                         {"party", required_argument, 0, 'p'},
                                         {"db", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'c') coll = optarg;
        else if (o == 'f') format = optarg;
        else if (o == 'a') at = optarg;
        else if (o == 'o') out_path = optarg;
        else if (o == 'p') party = optarg;
        else if (o != 'd') return bad_usage("unknown option for export");
    }
    if (optind != argc) return bad_usage("export takes no positional arguments");
    struct data_query q;
    memset(&q, 0, sizeof q);
    if (!coll || data_coll_parse(coll, &q.coll))
        return bad_usage("export needs --collection zones|incidents|movements");
    if (!format) return bad_usage("export needs --format geojson|kml|gpx|gpkg|shp|csv");
    if (at) {
        if (fm_time_parse(at, &q.asof)) return bad_usage("--at takes an RFC 3339 date-time");
        q.has_asof = 1;
    }
    q.limit = 10000;
    struct data_db *db;
    if (open_db(argc, argv, &db)) return 1;
    struct fm_err err;
    fm_err_clear(&err);
    /* without --party: what a viewer sees (no drafts at all); with it, as
     * that party's importer would (its own drafts too) */
    struct data_viewer viewer;
    memset(&viewer, 0, sizeof viewer);
    viewer.role = DATA_ROLE_VIEWER;
    snprintf(viewer.user, sizeof viewer.user, "export");
    fm_rc rc = party ? data_import_viewer(db, party, NULL, &viewer, &err) : FM_OK;
    char *bytes = NULL;
    size_t len = 0;
    const char *ctype, *ext;
    if (!rc) rc = data_export(db, &viewer, &q, format, 10000000, &bytes, &len, &ctype, &ext, &err);
    data_close(db);
    if (rc) return die("export", &err);
    FILE *out = out_path ? fopen(out_path, "wb") : stdout;
    int ret = 0;
    if (!out || fwrite(bytes, 1, len, out) != len) ret = 1;
    if (out && out != stdout && fclose(out) != 0) ret = 1;
    if (ret) fprintf(stderr, "fusionmap: cannot write %s\n", out_path ? out_path : "stdout");
    free(bytes);
    return ret;
}

/* ---- rules ---------------------------------------------------------------- */

/* A duration: seconds, or a number with s, m, h or d. -1 when bad. */
static long duration_s(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || v < 0) return -1;
    long unit = 1;
    if (*end == 'm') unit = 60;
    else if (*end == 'h') unit = 3600;
    else if (*end == 'd') unit = 86400;
    else if (*end != 's' && *end != '\0') return -1;
    if (*end && end[1]) return -1;
    if (v > 90L * 86400L / unit) return -1;
    return v * unit;
}

static int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "set") != 0 && strcmp(argv[1], "show") != 0))
        return bad_usage("rules show | rules set --collection C ...");
    int set = !strcmp(argv[1], "set");
    static const struct option opts[] = {{"collection", required_argument, 0, 'c'},
                                         {"type", required_argument, 0, 't'},
                                         {"notice", required_argument, 0, 'n'},
                                         {"urgent-notice", required_argument, 0, 'u'},
                                         {"answer", required_argument, 0, 'a'},
                                         {"answer-before", required_argument, 0, 'b'},
                                         {"db", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    json_t *rule = json_object();
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = o == 'n'   ? "notice_s"
                          : o == 'u' ? "urgent_notice_s"
                          : o == 'a' ? "answer_s"
                          : o == 'b' ? "answer_before_s"
                                     : NULL;
        if (o == 'c' || o == 't') {
            json_object_set_new(rule, o == 'c' ? "collection" : "type", json_string(optarg));
        } else if (key) {
            long v = duration_s(optarg);
            if (v < 0) {
                json_decref(rule);
                return bad_usage("a duration is seconds, or N with s, m, h or d (at most 90 days)");
            }
            json_object_set_new(rule, key, json_integer(v));
        } else if (o != 'd') {
            json_decref(rule);
            return bad_usage("unknown option for rules");
        }
    }
    if (optind != argc || (set && !json_object_get(rule, "collection")) ||
        (!set && json_object_size(rule))) {
        json_decref(rule);
        return bad_usage(set ? "rules set needs --collection" : "rules show takes only --db");
    }
    struct data_db *db;
    if (open_db(argc, argv, &db)) {
        json_decref(rule);
        return 1;
    }
    struct fm_err err;
    json_t *out = NULL;
    struct data_viewer admin = {0, "cli", "", DATA_ROLE_ADMIN};
    fm_rc rc = set ? data_rules_set(db, &admin, rule, &out, &err) : data_rules(db, &out, &err);
    data_close(db);
    json_decref(rule);
    if (rc) return die(set ? "rules set" : "rules show", &err);
    char *text = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return bad_usage("no command");
    const char *cmd = argv[1];
    if (getenv("FM_DEBUG")) fm_log_set_level(FM_LOG_DEBUG);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "party")) return cmd_party(argc - 1, argv + 1);
    if (!strcmp(cmd, "user")) return cmd_user(argc - 1, argv + 1);
    if (!strcmp(cmd, "token")) return cmd_token(argc - 1, argv + 1);
    if (!strcmp(cmd, "events")) return cmd_events(argc - 1, argv + 1);
    if (!strcmp(cmd, "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "key")) return cmd_key(argc - 1, argv + 1);
    if (!strcmp(cmd, "evidence")) return cmd_evidence(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign")) return cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "rules")) return cmd_rules(argc - 1, argv + 1);
    if (!strcmp(cmd, "copy")) return cmd_copy(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    return bad_usage("unknown command");
}
