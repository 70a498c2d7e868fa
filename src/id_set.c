/* A set of positive int64 ids for O(1) membership tests. */
#include "common.h"

#include "id_set.h"

#include <stdlib.h>

#define ID_SET_MIN_CAP 64

static size_t slot_of(const struct id_set *s, int64_t id)
{
    return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 17) & (s->cap - 1);
}

/* Doubles the table (kept at most half full, so probes stay short). */
static void grow(struct id_set *s)
{
    struct id_set bigger = {xcalloc(s->cap ? s->cap * 2 : ID_SET_MIN_CAP, sizeof(int64_t)),
                            s->cap ? s->cap * 2 : ID_SET_MIN_CAP, 0};
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            id_set_add(&bigger, s->slots[i]);
    free(s->slots);
    *s = bigger;
}

bool id_set_add(struct id_set *s, int64_t id)
{
    if (id <= 0)
        return false;
    if ((s->n + 1) * 2 > s->cap)
        grow(s);
    size_t h = slot_of(s, id);
    while (s->slots[h]) {
        if (s->slots[h] == id)
            return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->slots[h] = id;
    s->n++;
    return true;
}

bool id_set_has(const struct id_set *s, int64_t id)
{
    if (id <= 0 || !s->cap)
        return false;
    for (size_t h = slot_of(s, id); s->slots[h]; h = (h + 1) & (s->cap - 1))
        if (s->slots[h] == id)
            return true;
    return false;
}

void id_set_release(struct id_set *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
}
