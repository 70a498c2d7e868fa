/*
 * A set of positive int64 ids (open addressing, linear probing): O(1)
 * membership for the ids of long lists. Zero-initialise; id_set_release frees.
 */
#ifndef PETL_ID_SET_H
#define PETL_ID_SET_H

#include "common.h"

struct id_set {
    int64_t *slots; /* 0 = empty */
    size_t cap, n;
};

/* Adds id (> 0); false when it was already there or is not positive. */
bool id_set_add(struct id_set *s, int64_t id);
bool id_set_has(const struct id_set *s, int64_t id);
void id_set_release(struct id_set *s);

#endif
