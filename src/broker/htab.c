/* htab.c - the intrusive chained hash table (htab.h). */
#include "broker/htab.h"

#include <errno.h>
#include <stdlib.h>

#define INITIAL_BUCKETS 64

uint32_t zc_hash_fnv1a(uint32_t h, const void *p, size_t len)
{
    const uint8_t *b = p;

    while (len--)
        h = (h ^ *b++) * 16777619u;
    return h;
}

int zc_htab_init(struct zc_htab *t)
{
    t->n_buckets = INITIAL_BUCKETS;
    t->n = 0;
    t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
    return t->buckets ? 0 : -ENOMEM;
}

void zc_htab_free(struct zc_htab *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->n_buckets = t->n = 0;
}

static void grow(struct zc_htab *t)
{
    size_t n = t->n_buckets * 2;
    struct zc_hnode **b = calloc(n, sizeof(*b));

    if (!b)
        return;                     /* longer chains, still correct */
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct zc_hnode *e = t->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

void zc_htab_insert(struct zc_htab *t, struct zc_hnode *n)
{
    struct zc_hnode **chain;

    if (t->n >= t->n_buckets)
        grow(t);
    chain = zc_htab_chain(t, n->hash);
    n->next = *chain;
    *chain = n;
    t->n++;
}

void zc_htab_unlink(struct zc_htab *t, struct zc_hnode **link)
{
    *link = (*link)->next;
    t->n--;
}
