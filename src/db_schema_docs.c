/*
 * The schema reference, generated from the catalog so it cannot drift: a
 * test compares docs/schema.md with `patitas-etl schema docs`. Types are
 * MySQL's (the dialect of db_sql.c); SQLite's differ as docs/schema.md says.
 */
#include "common.h"

#include "db_schema_docs.h"

#include "catalog.h"
#include "db_sql.h"

#include <string.h>

/* Markdown table cells: a '|' inside ("municipality|district") would end the cell. */
static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* When a child table's rows come embedded in the parent, and when its own list is read. */
static void write_embedded(FILE *out, const struct cat_table *t, const char *parent_name)
{
    const struct cat_source *s = &t->source;
    fprintf(out,
            "- Incrustada en `%s` de cada fila de `%s` (`%s` guarda su id) / embedded in `%s` of "
            "each row of `%s` (`%s` holds its id)",
            s->embedded, parent_name, s->parent_col, s->embedded, parent_name, s->parent_col);
    if (t->role == CAT_ROLE_LINES)
        fprintf(out, "; la lista aparte se lee cuando Bsale la corta / the separate list is read "
                     "when Bsale cuts it short");
    else if (s->linked_read)
        fprintf(out, "; la lista aparte se lee cuando Bsale da solo un enlace / the separate list "
                     "is read when Bsale gives only a link");
    else if (s->path)
        fprintf(out,
                "; solo se guarda cuando viene incrustada completa, nunca se lee `%s` / "
                "stored only when embedded complete, `%s` is never read",
                s->path, s->path);
    fprintf(out, "\n");
}

static void write_source(FILE *out, const struct cat_table *t)
{
    const struct cat_source *s = &t->source;
    const struct cat_table *parent = s->parent ? catalog_by_role(s->parent) : NULL;
    const char *parent_name = parent ? parent->name : "?";
    fprintf(out, "- Fuente Bsale / Bsale source: ");
    switch (s->fetch) {
    case CAT_FETCH_NONE:
        fprintf(out, "ninguna, la escribe el ETL / none, written by the ETL");
        break;
    case CAT_FETCH_MASTER:
        fprintf(out,
                "`GET %s`, la lista completa en cada sync full / the whole list on every "
                "full sync",
                s->path);
        break;
    case CAT_FETCH_DAILY:
        fprintf(out,
                "`GET %s?%s%s%s%s=%s`, una lista por día (segundos Unix del día UTC) / one "
                "list per day (Unix seconds of the UTC day)",
                s->path, s->expand ? "expand=" : "", s->expand ? s->expand : "",
                s->expand ? "&" : "", s->date_filter,
                s->date_kind == CAT_DATE_RANGE ? "[inicio,fin]" : "<inicio>");
        break;
    case CAT_FETCH_JOURNAL:
        fprintf(out,
                "`GET %s` entera en un sync full; en un sync diario por ventana de fechas "
                "(`%s=[inicio,fin]`) más la cola ordenada por id / the whole list on a full sync; "
                "on a daily sync by date window (`%s=[start,end]`) plus the id-ordered tail",
                s->path, s->date_filter, s->date_filter);
        break;
    case CAT_FETCH_DATED:
        fprintf(out,
                "`GET %s` entera en un sync full; en un sync diario `%s=[inicio,fin]` sobre la "
                "ventana y su horizonte de conciliación / the whole list on a full sync; on a "
                "daily sync `%s=[start,end]` over the window and its reconcile horizon",
                s->path, s->date_filter, s->date_filter);
        break;
    case CAT_FETCH_OBJECT:
        fprintf(out,
                "`GET %s` (un objeto) por cada fila elegida de `%s` / (one object) for each "
                "chosen row of `%s`",
                s->path, parent_name, parent_name);
        break;
    case CAT_FETCH_DERIVED:
        fprintf(out,
                "ninguna: el ETL la escribe a partir de `%s` / none: the ETL writes it from "
                "`%s`",
                parent_name, parent_name);
        break;
    case CAT_FETCH_CHILD:
        if (s->path && (!s->embedded || s->linked_read || t->role == CAT_ROLE_LINES))
            fprintf(out, "`GET %s` por cada fila de `%s` / for each row of `%s`", s->path,
                    parent_name, parent_name);
        else
            fprintf(out, "solo incrustada en `%s` / only embedded in `%s`", parent_name,
                    parent_name);
        break;
    }
    fprintf(out, "\n");
    if (parent && s->embedded)
        write_embedded(out, t, parent_name);
    if (s->parent_query)
        fprintf(out, "- Por documento / per document: `GET %s?%s=<id>`\n", s->path,
                s->parent_query);
}

static const char *prune_text(const struct cat_table *t)
{
    switch (t->prune) {
    case CAT_PRUNE_UNLISTED:
        return "se borran tras un sync full completo / deleted after a complete full sync";
    case CAT_PRUNE_WITH_PARENT:
        return "se reemplazan con su padre: las que un padre reescrito con la colección completa "
               "ya no tiene se borran; un padre que solo trae el enlace no las toca / replaced "
               "with their parent: those a parent rewritten with the whole collection no longer "
               "has are deleted; a parent giving only the link leaves them alone";
    case CAT_PRUNE_VERIFIED:
        return "se releen por id; se borran (con sus líneas) si Bsale responde 404 / re-read by "
               "id; deleted (with their lines) when Bsale answers 404";
    case CAT_PRUNE_NEVER:
        break;
    }
    return catalog_column_index(t, "estado") >= 0
               ? "se conservan; Bsale las desactiva (`estado`) / kept; Bsale deactivates them "
                 "(`estado`)"
               : "se conservan / kept";
}

static void write_prune(FILE *out, const struct cat_table *t)
{
    if (t->source.fetch != CAT_FETCH_NONE)
        fprintf(out, "- Filas que Bsale ya no lista / rows Bsale no longer lists: %s\n",
                prune_text(t));
}

static void write_column(FILE *out, const struct cat_column *c)
{
    fprintf(out, "| `%s` | %s%s%s%s | ", c->name,
            c->type == CAT_SERIAL ? "BIGINT AUTO_INCREMENT" : db_sql_mysql.type(c->type),
            c->flags & CAT_KEY ? ", PK" : "",
            (c->flags & CAT_NOT_NULL) && !(c->flags & CAT_KEY) ? ", NOT NULL" : "",
            c->flags & CAT_INDEX ? ", idx" : "");
    if (c->json) {
        fputc('`', out);
        md_cell(out, c->json);
        fputc('`', out);
    } else {
        fprintf(out, "%s", c->flags & CAT_PARENT ? "(id del padre / parent id)" : "-");
    }
    fprintf(out, " | ");
    md_cell(out, c->es);
    fprintf(out, " | ");
    md_cell(out, c->en);
    fprintf(out, " |\n");
}

static void write_table(FILE *out, const struct cat_table *t)
{
    fprintf(out, "### `%s`\n\n%s *%s*\n\n", t->name, t->es, t->en);
    write_source(out, t);
    write_prune(out, t);
    if (t->unique) {
        fprintf(out, "- Única / unique: (");
        for (size_t i = 0; t->unique[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", t->unique[i]);
        fprintf(out, ")\n");
    }
    fprintf(out, "\n| Columna / column | Tipo / type | Campo Bsale / Bsale field | Significado | "
                 "Meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < t->ncols; i++)
        write_column(out, &t->cols[i]);
    fprintf(out, "\n");
}

void db_schema_write_docs(FILE *out)
{
    size_t n;
    const struct cat_table *const *t = catalog_tables(&n);
    fprintf(out, "## Tablas sincronizadas desde Bsale / tables synced from Bsale\n\n");
    for (size_t i = 0; i < n; i++)
        write_table(out, t[i]);
    t = catalog_own_tables(&n);
    fprintf(out, "## Tablas propias del ETL / the ETL's own tables\n\n");
    for (size_t i = 0; i < n; i++)
        write_table(out, t[i]);
}
