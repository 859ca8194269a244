/* internal.h - what the files of data/ share; not for other modules. */
#ifndef DATA_INTERNAL_H
#define DATA_INTERNAL_H

#include "data.h"

struct store_message;

/* The connection (struct data_db) is the backend's (data/sqlite/sqlite.h
 * today); the files above the store see it only through the store
 * interface (store.h). */

/* ---- the picture of now, in memory (picture.c) ------------------------- */

/* When this process keeps a picture of db's file in memory: runs
 * data_picture_items' query of now (or data_picture_conflicts') on it,
 * sets *rc and returns 1. Returns 0 when it keeps none (FUSIONMAP_PICTURE
 * =sql, a database without a file): the caller asks SQLite. */
int pic_now_items(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                  const double bbox[4], data_pic_cb cb, void *ctx, fm_rc *rc,
                  struct fm_err *err);
int pic_now_conflicts(struct data_db *db, const struct data_viewer *v, const double bbox[4],
                      data_pic_cb cb, void *ctx, fm_rc *rc, struct fm_err *err);
/* Test seam (tests/unit/test_picture.c): when set, no picture is kept in
 * memory, as with FUSIONMAP_PICTURE=sql. */
extern int pic_memory_off;

/* ---- validation (validate.c) ------------------------------------------ */

/* The fields of an item as validated from a client's Feature. Owns its
 * json_t references (feature_fields_cleanup). */
struct item_fields {
    json_t *geometry; /* validated GeoJSON geometry */
    json_t *props;    /* every property the client sent, server-owned ones dropped */
    const char *status, *type, *title;
    int has_from, has_to;
    fm_time valid_from, valid_to;
    int has_floor, has_ceiling;
    double alt_floor, alt_ceiling;
    long vertices;
};

fm_rc feature_validate(enum data_coll c, const json_t *feature, const struct data_limits *lim,
                       struct item_fields *out, struct fm_err *err);
void feature_fields_cleanup(struct item_fields *f);
/* The status an item of c starts in when the client names none. */
const char *coll_default_status(enum data_coll c);
/* May a new item of c have status? (vocabulary.def's START rows) */
int coll_initial_status(enum data_coll c, const char *status);
int coll_has_status(enum data_coll c, const char *status);
/* Is from -> to a legal step of c's workflow? */
int coll_transition_ok(enum data_coll c, const char *from, const char *to);
/* Is from -> to a step the supervisor may make on another party's item
 * (the one table of those powers, validate.c)? */
int coll_supervisor_step_ok(enum data_coll c, const char *from, const char *to);
/* The supervisor's steps from `from`, joined with ", " into out ("none"). */
void coll_supervisor_steps_from(enum data_coll c, const char *from, char *out, size_t n);

/* ---- item versions (items.c) ------------------------------------------ */

struct item_current {
    int64_t vid, version;
    int owner_only; /* vis_owner_only of this version */
    char party[16];
    char status[24];
    char created_by[64];
    fm_time created_at;
    json_t *feature;
};

/* ---- the visibility rule (visibility.c) ------------------------------- */

/* The party whose drafts v may see: its own, or NULL for a viewer (and
 * for nobody), who sees no draft at all. */
const char *viewer_draft_party(const struct data_viewer *v);
/* DESIGN.md: what a party may see of an item's past is decided from its
 * whole history. A version is its owner party's alone (owner-only) when
 * it is a draft, or the withdrawal of an owner-only version: an item that
 * was only ever a draft never existed for anyone else, and a withdrawal
 * never shows the last draft's content. prev_owner_only is the rule's
 * answer for the version before (0 for a first version). Each version
 * keeps its answer (item_versions.owner_only), and so does each event
 * (before_draft, after_draft); SQL reads those columns, never the status.
 * For a current, live version (not withdrawn) it is "status is draft",
 * which is how the picture of now (pic_* tables, picture.c) reads it. */
int vis_owner_only(const char *status, int prev_owner_only);
/* May v see a version of party's marked owner_only? The one place. */
int vis_may_see(const struct data_viewer *v, const char *party, int owner_only);

/* Is party one of owner's? owner is a record's owner: one party's code,
 * or a list of them joined with "," (a channel between two parties,
 * messages.c); a code holding a comma is never one of a list's. */
int vis_owner_has(const char *owner, const char *party);
/* May v read what is for readers (NULL: everyone; else as vis_owner_has)? */
int vis_may_read(const struct data_viewer *v, const char *readers);

/* The statuses in which an item has ended: in no conflict, waiting for no
 * answer. The one list, handed to X with SEP between: as C strings
 * (item_status_live) and as SQL's ('withdrawn', ...) (ENDED_STATUSES_SQL). */
#define ITEM_ENDED_STATUSES(X, SEP)                                                               \
    X("withdrawn") SEP X("expired") SEP X("resolved") SEP X("completed") SEP X("cancelled")
#define SQL_QUOTED_(s) "'" s "'"
#define SQL_COMMA_ ","
#define ENDED_STATUSES_SQL "(" ITEM_ENDED_STATUSES(SQL_QUOTED_, SQL_COMMA_) ")"
/* Is an item in status live (not ended)? */
int item_status_live(const char *status);

/* Loads the current version of (c, id) as v may see it (FM_ENOTFOUND for a
 * withdrawn item or another party's draft). */
fm_rc item_load_current(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, struct item_current *cur, struct fm_err *err);
void item_current_cleanup(struct item_current *cur);
/* FM_OK when v may see item (c, id) now, else as item_load_current. */
fm_rc item_visible(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                   struct fm_err *err);

/* Validates `feature` exactly as data_item_create does and writes it as a
 * new item inside the caller's transaction (event and conflicts included).
 * OUT *created. On failure the caller rolls back (or to a savepoint). */
fm_rc item_create_in_tx(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        const json_t *feature, const struct data_limits *lim, json_t **created,
                        struct fm_err *err);

#define ITEM_BY_WORKFLOW 1 /* a step of the workflow: the caller checked who may */
#define ITEM_WITHDRAW 2    /* withdrawal: a step from any live status */

/* Validates `proposed` and writes it as the next version of cur, inside the
 * caller's transaction: checks owner, If-Match, the workflow; appends the
 * event; re-checks conflicts. OUT *updated (may be NULL). */
fm_rc item_write_next(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                      int64_t id, struct item_current *cur, int64_t if_match,
                      const json_t *proposed, const char *action, const struct data_limits *lim,
                      int flags, json_t **updated, struct fm_err *err);

/* ---- event log (events.c) --------------------------------------------- */

/* Appends one record inside the caller's transaction, with the
 * collection name, the owner party and the visibility of before and after
 * (vis_owner_only for an item's versions): a side marked owner-only is
 * seen only by the owner party, and a record whose after is owner-only is
 * not seen at all by the others. before/after may be NULL. */
fm_rc events_append_ex(struct data_db *db, const struct data_viewer *v, const char *action,
                       const char *collection, int64_t item, int64_t version, const char *before,
                       const char *after, const char *owner, int before_owner_only,
                       int after_owner_only, fm_time at, struct fm_err *err);

/* The actions whose record's after is a version of an item: the one list,
 * as C strings and as SQL's ('create', ...) (EVENT_VERSION_ACTIONS_SQL). */
#define EVENT_VERSION_ACTIONS(X, SEP)                                                             \
    X("create") SEP X("replace") SEP X("patch") SEP X("withdraw") SEP X("acknowledged")          \
        SEP X("disputed")
#define EVENT_VERSION_ACTIONS_SQL "(" EVENT_VERSION_ACTIONS(SQL_QUOTED_, SQL_COMMA_) ")"

/* ---- a conflict's Feature text (conflict_text.c) ------------------------ */

/* A conflict's title, from its kind and the ids of its two items: the
 * formats serve both C's printf (with long long arguments) and SQLite's
 * (CONFLICT_TITLE_SQL, data/sqlite/sqlite.h). */
#define CONFLICT_TITLE_MZ "movement %lld crosses zone %lld"
#define CONFLICT_TITLE_ZZ "zones %lld and %lld overlap"
#define CONFLICT_TITLE_IZ "incident %lld inside zone %lld"
#define CONFLICT_TITLE_IM "incident %lld near movement %lld"

struct store_conflict;
/* The conflict's row c as its GeoJSON Feature (malloc): the text hashed
 * into the event log and served by the collection, the same bytes on
 * every backend. */
char *conflict_text(const struct store_conflict *c);

/* ---- conflicts (conflicts.c) ------------------------------------------- */

/* Re-checks item `item` (its current version, just written) against every
 * other live item, inside the caller's transaction: opens new conflicts,
 * resolves those that no longer hold, and appends an event for each.
 * created: the item was created in this transaction, so that no conflict
 * names it yet and none is looked up or resolved. */
fm_rc conflicts_check_item(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t item, int created, fm_time now, struct fm_err *err);

/* ---- crypto (users.c) ------------------------------------------------- */

/* SHA-256 of n bytes into out (32 bytes). */
void sha256(const void *p, size_t n, unsigned char out[32]);
/* hex(SHA-256(s)) into out (65 bytes). */
void sha256_hex(const char *s, char out[65]);

/* ---- parties and users as records (users.c) ---------------------------- */

/* Appends a "party_add" record for every party and a "user_add" for every
 * user in the tables, each marked "found_at_upgrade": for a database made
 * before accounts were recorded (db.c calls it once, in the migration to
 * schema 8, inside its transaction). */
fm_rc accounts_record_existing(struct data_db *db, struct fm_err *err);

/* ---- signed answers (keys.c) ------------------------------------------ */

/* The JCS text of the statement an answer signs (keys.c's head comment).
 * version_text: the answered version's Feature as its record holds it.
 * OUT *out (free). */
fm_rc sig_statement(const char *collection, int64_t item, int64_t version,
                    const char *version_text, const char *decision, const char *comment,
                    fm_time at, const char *user, const char *party, char **out,
                    struct fm_err *err);
/* Checks an answer's signature (NULL: unsigned, refused once v's user has
 * registered a key) over statement, against v's user's current keys. */
fm_rc sig_answer_check(struct data_db *db, const struct data_viewer *v, const char *statement,
                       const struct data_signature *sig, fm_time now, struct fm_err *err);

/* The JCS text of the statement a cosigned head signs (heads.c). */
fm_rc head_statement(int64_t seq, const char *hash, fm_time at, const char *user,
                     const char *party, char **out, struct fm_err *err);

/* The signatures of a log, replayed record by record in order: the keys
 * its records register and revoke, the versions' digests, and each signed
 * answer checked against them (verify; the database's log by replay.c, an
 * export's by data_signatures_verify_file). */
struct sig_record {
    int64_t seq;
    const char *user, *party, *action, *collection;
    int64_t item, version;
    const char *after;
};
struct sig_replay;
struct sig_replay *sig_replay_new(void);
/* 1 and err (naming the record) when r is bad. */
int sig_replay_record(struct sig_replay *s, const struct sig_record *r, struct fm_err *err);
/* A key given beside the records (an evidence bundle's "keys": the
 * server's word for a signer whose key record the party may not read):
 * 1 and err when the fingerprint is not the key's SHA-256. A key_add
 * record of the same key later replaces it. */
int sig_replay_key(struct sig_replay *s, const char *fingerprint, const char *user,
                   const char *public_key, struct fm_err *err);
/* 1 and err when an evidence bundle's picture is there but not the PNG
 * its sha256 names (evidence.c); 0 when it is, or there is none. */
int evidence_picture_bad(const json_t *bundle, struct fm_err *err);
/* The signed answers that verified. */
int64_t sig_replay_count(const struct sig_replay *s);
void sig_replay_free(struct sig_replay *s);

/* ---- messages (messages.c) --------------------------------------------- */

/* A message or a receipt (m->text NULL) as the JSON its record holds and
 * the API shows. OUT a new reference. */
json_t *message_json(const struct store_message *m);
/* Is text a message's (or a ruling's reason): UTF-8, no control character
 * but newline, 1 to DATA_MESSAGE_MAX_CHARS characters, not all blank?
 * FM_EINVAL / FM_ETOOBIG with pointer. */
fm_rc message_text_check(const char *text, const char *pointer, struct fm_err *err);

/* ---- acknowledgement (acks.c) and rulings (rulings.c) ------------------- */

/* The Feature text of version `version` of item id as stored and as its
 * record holds it (what a signed statement digests). OUT *out (free). */
fm_rc item_version_text(struct data_db *db, int64_t id, int64_t version, char **out,
                        struct fm_err *err);
/* Is this a ruling v may make: a supervisor, "uphold" or "overrule", a
 * reason as a message's text? */
fm_rc ruling_input_check(const struct data_viewer *v, const char *decision, const char *reason,
                         struct fm_err *err);

/* The status an acknowledgement moves an item of c in status to, or NULL
 * (validate.c, from vocabulary.def's ANSWER steps). */
const char *ack_next_status(enum data_coll c, const char *status);
struct store_ruling;
/* A ruling as the JSON its record holds; status: the item's after it. */
json_t *ruling_json(const char *coll, const struct store_ruling *r, const char *status);

/* ---- lead times and deadlines (rules.c) ---------------------------------- */

/* Sets the server-owned properties of a new version's Feature `feature`
 * (late_notice, notified_at, answer_due) from the rule of its collection
 * and type, the version before (prev: its Feature, NULL for a first
 * version) and the time of the write. A draft carries none. FM_EINVAL for
 * urgent without a reason. */
fm_rc deadline_mark(struct data_db *db, enum data_coll c, const json_t *prev,
                    const struct item_fields *f, const char *status, int owner_only,
                    json_t *feature, fm_time now, struct fm_err *err);
/* The demo's staging (demo.c): a first notification written by this
 * thread from now on is dated `seconds` before the write (its
 * notified_at, and the late notice measured from it); 0 ends it. */
void deadline_stage_notice(int64_t seconds);
/* After a version is written: keeps its deadline (when its Feature has
 * answer_due) and marks what is due by data_clock_now() overdue, inside
 * the caller's transaction. */
fm_rc deadline_written(struct data_db *db, enum data_coll c, int64_t id, int64_t version,
                       const char *party, const json_t *feature, fm_time now,
                       struct fm_err *err);
/* verify: the rules and deadlines tables against the log's records up to
 * last (see replay_check). */
fm_rc deadlines_replay_check(struct data_db *db, int64_t last, int64_t *bad, struct fm_err *err);

/* ---- replaying the log against the state (replay.c) --------------------- */

/* Replays the log and compares every table the server acts on with what
 * it says (item versions, items, acknowledgements, conflicts, parties,
 * users, the event rows' visibility flags, the picture's caches). Run
 * after the chain and the cross-check passed; last is the last record.
 * On the first difference sets *bad (the record the row disagrees with,
 * or last + 1 for a row no record tells) and err->msg naming the table,
 * row and column with both values; err->pointer names only where (no
 * values: they may be a draft). FM_OK unless the check itself failed. */
fm_rc replay_check(struct data_db *db, int64_t last, int64_t *bad, struct fm_err *err);

#endif
