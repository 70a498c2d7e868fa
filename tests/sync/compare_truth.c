/*
 * Compares a warehouse with the simulator's /__truth: every catalog table,
 * every column but sincronizado_en, as sets keyed by primary key. Prints each
 * difference and exits 1 when there is any, 0 when the copy is exact. A table
 * whose collection the truth lacks (an older simulator) is skipped, with a
 * note on stderr.
 * With --lines it checks only that every stored document is whole: exactly
 * the truth's number of lines, and no line without its document.
 *
 * --extras also compares the documents' taxes and sellers (stored when Bsale embeds them or
 * with ETL_DOCUMENT_EXTRAS=read).
 *
 * --garbled: the records /__truth lists under "garbled" (a document with any garbled line
 * counts as one unit with its lines) are left out of the row comparison; each such unit
 * must instead be wholly absent from the database or wholly equal to the truth, never
 * partial. A last line "totals missing=… extra=… differing=… garbled_units=…
 * garbled_present=… garbled_bad=…" sums it up for scripts.
 *
 *   compare_truth TRUTH_URL TOKEN DATABASE_URL [--tables t1,t2] [--except t1,t2] [--garbled]
 *                 [--extras] | --lines
 */
#include "common.h"

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "json_util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which truth collection feeds which table, and the member naming the parent. */
struct source {
    const char *table;
    const char *truth_key;
    const char *parent_key;
    /* A document's taxes and sellers: stored only when embedded or read (ETL_DOCUMENT_EXTRAS),
     * so compared only with --extras. */
    bool extras;
};

static const struct source sources[] = {
    {"sucursales", "offices", NULL, false},
    {"tipos_documento", "document_types", NULL, false},
    {"formas_pago", "payment_types", NULL, false},
    {"usuarios", "users", NULL, false},
    {"tipos_producto", "product_types", NULL, false},
    {"productos", "products", NULL, false},
    {"variantes", "variants", NULL, false},
    {"clientes", "clients", NULL, false},
    {"listas_precio", "price_lists", NULL, false},
    {"precios", "price_list_details", "price_list_id", false},
    {"stock", "stocks", NULL, false},
    {"documentos_venta", "documents", NULL, false},
    {"detalles_venta", "document_details", "document_id", false},
    {"pagos", "payments", NULL, false},
    {"pagos_documentos", "payment_documents", "payment_id", false},
    {"pagos_por_tipo_documento", "document_payment_totals", "document_id", false},
    {"referencias_documento", "document_references", "document_id", false},
    {"impuestos", "taxes", NULL, false},
    {"impuestos_documento", "document_taxes", "document_id", true},
    {"vendedores_documento", "document_sellers", "document_id", true},
    {"recepciones_stock", "receptions", NULL, false},
    {"detalles_recepcion", "reception_details", "reception_id", false},
    {"consumos_stock", "consumptions", NULL, false},
    {"detalles_consumo", "consumption_details", "consumption_id", false},
    {"devoluciones", "returns", NULL, false},
    {"detalles_devolucion", "return_details", "return_id", false},
    {"costos_variante", "variant_costs", "variant_id", false},
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct err e = {0};
    return buf_append(ctx, p, size * n, &e) ? 0 : size * n;
}

static json_t *fetch_truth(const char *url, const char *token)
{
    struct buf body;
    buf_init(&body, 1u << 30);
    CURL *c = curl_easy_init();
    char header[512];
    snprintf(header, sizeof(header), "access_token: %s", token);
    struct curl_slist *h = curl_slist_append(NULL, header);
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_t *root = NULL;
    struct err e = ERR_INIT;
    if (rc != CURLE_OK || status != 200 || json_util_load(body.data, body.len, &root, &e))
        fprintf(stderr, "compare: cannot read %s (curl %d, HTTP %ld) %s\n", url, (int)rc, status,
                e.msg);
    buf_release(&body);
    return root;
}

/* Canonical text of a cell so that "12990.0000" (MySQL DECIMAL) equals "12990". */
static void canon(const char *in, char *out, size_t n)
{
    if (!in) {
        snprintf(out, n, "\x01NULL");
        return;
    }
    snprintf(out, n, "%s", in);
    const char *p = in;
    if (*p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    if (!digits || p[digits] != '.' ||
        strspn(p + digits + 1, "0123456789") != strlen(p + digits + 1))
        return;
    char *dot = strchr(out, '.');
    char *end = out + strlen(out) - 1;
    while (end > dot && *end == '0')
        *end-- = '\0';
    if (end == dot)
        *end = '\0';
    if (strcmp(out, "-0") == 0)
        snprintf(out, n, "0");
}

struct row_map {
    char **keys;
    char **rows; /* tab-joined canonical cells */
    size_t n, alloc;
};

/* Records that /__truth says were garbled: document units (with their lines) and payments. */
struct garbled {
    int64_t *docs, *pays;
    size_t n_docs, n_pays;
    int64_t *line_ids, *line_docs; /* truth lines of garbled documents */
    size_t n_lines;
};

struct totals {
    long missing, extra, differing;
    long units, present, bad;
};

static void map_add(struct row_map *m, char *key, char *row)
{
    if (m->n == m->alloc) {
        m->alloc = m->alloc ? m->alloc * 2 : 256;
        m->keys = xrealloc(m->keys, m->alloc * sizeof(char *));
        m->rows = xrealloc(m->rows, m->alloc * sizeof(char *));
    }
    m->keys[m->n] = key;
    m->rows[m->n++] = row;
}

static void map_free(struct row_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->rows[i]);
    }
    free(m->keys);
    free(m->rows);
}

static bool compared(const struct cat_column *c)
{
    return c->type != CAT_SYNCED_AT;
}

static void join_cells(const struct cat_table *t, const char *const *cells, char **key, char **row)
{
    struct buf k, r;
    struct err e = {0};
    buf_init(&k, 0);
    buf_init(&r, 0);
    for (size_t i = 0, j = 0; i < t->ncols; i++) {
        if (!compared(&t->cols[i]))
            continue;
        char c[512];
        canon(cells[j++], c, sizeof(c));
        buf_appendf(&r, &e, "%s%s=%s", r.len ? "\t" : "", t->cols[i].name, c);
        if (t->cols[i].flags & CAT_KEY)
            buf_appendf(&k, &e, "%s%s", k.len ? "," : "", c);
    }
    *key = buf_detach(&k, NULL);
    *row = buf_detach(&r, NULL);
}

static void truth_rows(const struct cat_table *t, json_t *items, const char *parent_key,
                       struct row_map *out)
{
    struct cat_rows rows = {0};
    cat_rows_init(&rows, t);
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        int64_t parent = 0;
        if (parent_key)
            json_util_int64(json_object_get(item, parent_key), &parent);
        struct err e = ERR_INIT;
        if (catalog_map_item(&rows, item, parent, &e))
            fprintf(stderr, "compare: truth item of %s does not map: %s\n", t->name, e.msg);
    }
    for (size_t r = 0; r < rows.n; r++) {
        const char *cells[64] = {0};
        char texts[64][64];
        size_t j = 0;
        for (size_t c = 0; c < t->ncols; c++) {
            if (!compared(&t->cols[c]))
                continue;
            const struct cat_value *v = cat_rows_cell(&rows, r, c);
            if (v->kind == CAT_V_NULL) {
                cells[j++] = NULL;
            } else if (v->kind == CAT_V_INT) {
                snprintf(texts[j], sizeof(texts[j]), "%lld", (long long)v->i);
                cells[j] = texts[j];
                j++;
            } else {
                cells[j++] = v->s;
            }
        }
        char *key, *row;
        join_cells(t, cells, &key, &row);
        map_add(out, key, row);
    }
    cat_rows_release(&rows);
}

struct db_collect {
    const struct cat_table *t;
    struct row_map *out;
};

static int collect_db_row(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)ncols;
    (void)names;
    struct db_collect *dc = ctx;
    char *key, *row;
    join_cells(dc->t, cells, &key, &row);
    map_add(dc->out, key, row);
    return 0;
}

static enum err_code db_rows(struct db *db, const struct cat_table *t, struct row_map *out,
                             struct err *e)
{
    struct buf sql;
    buf_init(&sql, 0);
    buf_append_str(&sql, "SELECT ", e);
    bool first = true;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!compared(&t->cols[i]))
            continue;
        buf_appendf(&sql, e, "%s%s", first ? "" : ", ", t->cols[i].name);
        first = false;
    }
    buf_appendf(&sql, e, " FROM %s", t->name);
    struct db_collect dc = {t, out};
    enum err_code rc = db_query(db, sql.data, collect_db_row, &dc, e);
    buf_release(&sql);
    return rc;
}

static int cmp_idx_keys(const void *a, const void *b, void *ctx)
{
    struct row_map *m = ctx;
    return strcmp(m->keys[*(const size_t *)a], m->keys[*(const size_t *)b]);
}

static size_t *sorted_index(struct row_map *m)
{
    size_t *idx = xmalloc((m->n ? m->n : 1) * sizeof(size_t));
    for (size_t i = 0; i < m->n; i++)
        idx[i] = i;
    qsort_r(idx, m->n, sizeof(size_t), cmp_idx_keys, m);
    return idx;
}

/* Returns the number of differences, printing the first few. */
static long diff_table(const char *name, struct row_map *want, struct row_map *have,
                       struct totals *tot)
{
    size_t *wi = sorted_index(want), *hi = sorted_index(have);
    size_t a = 0, b = 0;
    long missing = 0, extra = 0, differing = 0;
    while (a < want->n || b < have->n) {
        int c = a == want->n ? 1 : b == have->n ? -1 : strcmp(want->keys[wi[a]], have->keys[hi[b]]);
        if (c == 0) {
            if (strcmp(want->rows[wi[a]], have->rows[hi[b]]) != 0 && differing++ < 3)
                printf("%s: differs key=%s\n  want %s\n  have %s\n", name, want->keys[wi[a]],
                       want->rows[wi[a]], have->rows[hi[b]]);
            a++;
            b++;
        } else if (c < 0) {
            if (missing++ < 3)
                printf("%s: missing key=%s\n", name, want->keys[wi[a]]);
            a++;
        } else {
            if (extra++ < 3)
                printf("%s: extra key=%s\n", name, have->keys[hi[b]]);
            b++;
        }
    }
    printf("%-24s truth=%zu db=%zu missing=%ld extra=%ld differing=%ld\n", name, want->n, have->n,
           missing, extra, differing);
    tot->missing += missing;
    tot->extra += extra;
    tot->differing += differing;
    free(wi);
    free(hi);
    return missing + extra + differing;
}

static bool wanted(const char *only, const char *table)
{
    if (!only)
        return true;
    size_t n = strlen(table);
    for (const char *p = only; (p = strstr(p, table)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* Lines per document in the truth, sorted by document id for bsearch. */
struct doc_count {
    int64_t id;
    long lines;
};

struct line_check {
    struct doc_count *truth;
    size_t n_truth;
    size_t checked, incomplete, unknown;
};

static int cmp_doc_count(const void *a, const void *b)
{
    int64_t x = ((const struct doc_count *)a)->id, y = ((const struct doc_count *)b)->id;
    return x < y ? -1 : x > y;
}

static struct doc_count *find_doc(const struct line_check *lc, int64_t id)
{
    struct doc_count key = {id, 0};
    return bsearch(&key, lc->truth, lc->n_truth, sizeof(key), cmp_doc_count);
}

static void truth_line_counts(json_t *truth, struct line_check *lc)
{
    json_t *docs = json_object_get(truth, "documents"), *item;
    size_t i;
    lc->truth = xcalloc(json_array_size(docs) + 1, sizeof(*lc->truth));
    json_array_foreach (docs, i, item)
        json_util_int64(json_object_get(item, "id"), &lc->truth[lc->n_truth++].id);
    qsort(lc->truth, lc->n_truth, sizeof(*lc->truth), cmp_doc_count);
    json_array_foreach (json_object_get(truth, "document_details"), i, item) {
        int64_t doc = 0;
        json_util_int64(json_object_get(item, "document_id"), &doc);
        struct doc_count *d = find_doc(lc, doc);
        if (d)
            d->lines++;
    }
}

static int check_stored_doc(void *ctx, int ncols, const char *const *names,
                            const char *const *cells)
{
    (void)ncols;
    (void)names;
    struct line_check *lc = ctx;
    int64_t id = strtoll(cells[0], NULL, 10);
    long have = strtol(cells[1], NULL, 10);
    const struct doc_count *d = find_doc(lc, id);
    lc->checked++;
    if (!d && lc->unknown++ < 3)
        printf("documentos_venta: document %lld is not in the truth\n", (long long)id);
    if (d && d->lines != have && lc->incomplete++ < 3)
        printf("documentos_venta: document %lld has %ld lines, want %ld\n", (long long)id, have,
               d->lines);
    return 0;
}

static int read_count(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    *(long *)ctx = ncols >= 1 && cells[0] ? strtol(cells[0], NULL, 10) : -1;
    return 0;
}

/* The --lines check; exit status as main's. */
static int check_whole_documents(json_t *truth, struct db *db)
{
    struct line_check lc = {0};
    struct err e = ERR_INIT;
    long orphans = -1;
    truth_line_counts(truth, &lc);
    enum err_code rc = db_query(db,
                                "SELECT d.id_bsale, COUNT(l.id_bsale) FROM documentos_venta d "
                                "LEFT JOIN detalles_venta l ON l.id_documento = d.id_bsale "
                                "GROUP BY d.id_bsale",
                                check_stored_doc, &lc, &e);
    if (!rc)
        rc = db_query(db,
                      "SELECT COUNT(*) FROM detalles_venta l LEFT JOIN documentos_venta d "
                      "ON d.id_bsale = l.id_documento WHERE d.id_bsale IS NULL",
                      read_count, &orphans, &e);
    free(lc.truth);
    if (rc) {
        fprintf(stderr, "compare: %s\n", e.msg);
        return 2;
    }
    bool whole = !lc.incomplete && !lc.unknown && orphans == 0;
    printf("%s: documents=%zu incomplete=%zu unknown=%zu orphan_lines=%ld\n",
           whole ? "WHOLE" : "BROKEN", lc.checked, lc.incomplete, lc.unknown, orphans);
    return whole ? 0 : 1;
}

static void push_id(int64_t **a, size_t *n, int64_t v)
{
    for (size_t i = 0; i < *n; i++)
        if ((*a)[i] == v)
            return;
    *a = xrealloc(*a, (*n + 1) * sizeof(int64_t));
    (*a)[(*n)++] = v;
}

static bool has_id(const int64_t *a, size_t n, int64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == v)
            return true;
    return false;
}

static void garbled_load(json_t *truth, struct garbled *g)
{
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get(truth, "garbled"), i, it) {
        const char *res = json_string_value(json_object_get(it, "resource"));
        int64_t id = 0, doc = 0;
        json_util_int64(json_object_get(it, "id"), &id);
        json_util_int64(json_object_get(it, "document_id"), &doc);
        const char *kind = json_string_value(json_object_get(it, "kind"));
        printf("garbled_record resource=%s id=%lld unit=%lld kind=%s\n", res ? res : "?",
               (long long)id, (long long)(doc ? doc : id), kind ? kind : "?");
        if (res && strcmp(res, "payments") == 0)
            push_id(&g->pays, &g->n_pays, id);
        else if (res && strcmp(res, "document_details") == 0)
            push_id(&g->docs, &g->n_docs, doc);
        else if (res && strcmp(res, "documents") == 0)
            push_id(&g->docs, &g->n_docs, id);
    }
    json_array_foreach (json_object_get(truth, "document_details"), i, it) {
        int64_t id = 0, doc = 0;
        json_util_int64(json_object_get(it, "id"), &id);
        json_util_int64(json_object_get(it, "document_id"), &doc);
        if (!has_id(g->docs, g->n_docs, doc))
            continue;
        g->line_ids = xrealloc(g->line_ids, (g->n_lines + 1) * sizeof(int64_t));
        g->line_docs = xrealloc(g->line_docs, (g->n_lines + 1) * sizeof(int64_t));
        g->line_ids[g->n_lines] = id;
        g->line_docs[g->n_lines++] = doc;
    }
}

static void garbled_free(struct garbled *g)
{
    free(g->docs);
    free(g->pays);
    free(g->line_ids);
    free(g->line_docs);
}

/* The unit (a document or payment id, negated for payments) a row's key belongs to, or 0. */
static int64_t unit_of(const struct garbled *g, const char *table, const char *key)
{
    int64_t id = strtoll(key, NULL, 10);
    if (strcmp(table, "documentos_venta") == 0 && has_id(g->docs, g->n_docs, id))
        return id;
    /* Children keyed by their parent first ("payment,document"): they go with it. */
    if ((strcmp(table, "pagos") == 0 || strcmp(table, "pagos_documentos") == 0) &&
        has_id(g->pays, g->n_pays, id))
        return -id;
    if (strcmp(table, "pagos_por_tipo_documento") == 0 && has_id(g->docs, g->n_docs, id))
        return id;
    if (strcmp(table, "detalles_venta") == 0)
        for (size_t i = 0; i < g->n_lines; i++)
            if (g->line_ids[i] == id)
                return g->line_docs[i];
    return 0;
}

/* A garbled unit's rows: how many the truth has, how many the database has, how many equal. */
struct unit_tally {
    int64_t unit;
    long want, have, equal;
};

struct unit_set {
    struct unit_tally *u;
    size_t n;
};

static struct unit_tally *unit_get(struct unit_set *s, int64_t unit)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->u[i].unit == unit)
            return &s->u[i];
    s->u = xrealloc(s->u, (s->n + 1) * sizeof(*s->u));
    s->u[s->n] = (struct unit_tally){.unit = unit};
    return &s->u[s->n++];
}

/* Moves the garbled rows out of want and have, tallying them per unit. */
static void split_garbled(const struct garbled *g, const char *table, struct row_map *want,
                          struct row_map *have, struct unit_set *units)
{
    for (size_t i = 0; i < want->n; i++) {
        int64_t unit = unit_of(g, table, want->keys[i]);
        if (!unit)
            continue;
        struct unit_tally *u = unit_get(units, unit);
        u->want++;
        for (size_t j = 0; j < have->n; j++)
            if (strcmp(have->keys[j], want->keys[i]) == 0) {
                u->have++;
                u->equal += strcmp(have->rows[j], want->rows[i]) == 0;
            }
        want->keys[i][0] = '\0'; /* dropped below */
    }
    for (size_t i = 0; i < have->n; i++)
        if (unit_of(g, table, have->keys[i]))
            have->keys[i][0] = '\0';
    struct row_map *maps[] = {want, have};
    for (size_t m = 0; m < 2; m++) {
        size_t o = 0;
        for (size_t i = 0; i < maps[m]->n; i++) {
            if (!maps[m]->keys[i][0]) {
                free(maps[m]->keys[i]);
                free(maps[m]->rows[i]);
                continue;
            }
            maps[m]->keys[o] = maps[m]->keys[i];
            maps[m]->rows[o++] = maps[m]->rows[i];
        }
        maps[m]->n = o;
    }
}

/* Each unit: wholly absent or wholly equal; returns the number of units that are neither. */
static long check_units(const struct unit_set *s, struct totals *tot)
{
    long bad = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct unit_tally *u = &s->u[i];
        bool absent = u->have == 0, whole = u->have == u->want && u->equal == u->want;
        tot->present += !absent;
        if (absent || whole)
            continue;
        if (bad++ < 5)
            printf("garbled %s %lld: %ld of %ld rows present, %ld equal (partial or wrong)\n",
                   u->unit < 0 ? "payment" : "document",
                   (long long)(u->unit < 0 ? -u->unit : u->unit), u->have, u->want, u->equal);
    }
    tot->units += (long)s->n;
    tot->bad += bad;
    printf("garbled units=%zu present=%ld bad=%ld\n", s->n, tot->present, bad);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr,
                "usage: compare_truth TRUTH_URL TOKEN DATABASE_URL [--tables a,b] [--except a,b] "
                "[--garbled] [--extras] | --lines\n");
        return 2;
    }
    const char *only = NULL, *except = NULL;
    bool use_garbled = false, extras = false;
    for (int a = 4; a < argc; a++) {
        if (strcmp(argv[a], "--extras") == 0)
            extras = true;
        if (strcmp(argv[a], "--tables") == 0 && a + 1 < argc)
            only = argv[++a];
        else if (strcmp(argv[a], "--except") == 0 && a + 1 < argc)
            except = argv[++a];
        else if (strcmp(argv[a], "--garbled") == 0)
            use_garbled = true;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_t *truth = fetch_truth(argv[1], argv[2]);
    struct db_url url = {0};
    struct db *db = NULL;
    struct err e = ERR_INIT;
    if (!truth || db_url_parse(argv[3], &url, &e) || db_open(&url, &db, &e)) {
        fprintf(stderr, "compare: %s\n", e.msg);
        return 2;
    }
    if (argc >= 5 && strcmp(argv[4], "--lines") == 0) {
        int status = check_whole_documents(truth, db);
        db_close(db);
        db_url_release(&url);
        json_decref(truth);
        curl_global_cleanup();
        return status;
    }
    long total = 0;
    struct totals tot = {0};
    struct garbled g = {0};
    struct unit_set units = {0};
    if (use_garbled)
        garbled_load(truth, &g);
    for (size_t i = 0; i < ARRAY_LEN(sources); i++) {
        if (!wanted(only, sources[i].table) || (except && wanted(except, sources[i].table)) ||
            (sources[i].extras && !extras))
            continue;
        const struct cat_table *t = catalog_table(sources[i].table);
        json_t *items = json_object_get(truth, sources[i].truth_key);
        if (!json_is_array(items)) {
            fprintf(stderr, "compare: the truth has no \"%s\": %s not compared\n",
                    sources[i].truth_key, sources[i].table);
            continue;
        }
        struct row_map want = {0}, have = {0};
        truth_rows(t, items, sources[i].parent_key, &want);
        if (db_rows(db, t, &have, &e)) {
            fprintf(stderr, "compare: %s\n", e.msg);
            return 2;
        }
        if (use_garbled)
            split_garbled(&g, t->name, &want, &have, &units);
        total += diff_table(t->name, &want, &have, &tot);
        map_free(&want);
        map_free(&have);
    }
    if (use_garbled)
        total += check_units(&units, &tot);
    printf("totals missing=%ld extra=%ld differing=%ld garbled_units=%ld garbled_present=%ld "
           "garbled_bad=%ld\n",
           tot.missing, tot.extra, tot.differing, tot.units, tot.present, tot.bad);
    printf("%s: %ld differences\n", total ? "MISMATCH" : "EXACT", total);
    free(units.u);
    garbled_free(&g);
    db_close(db);
    db_url_release(&url);
    json_decref(truth);
    curl_global_cleanup();
    return total ? 1 : 0;
}
