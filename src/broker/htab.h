/* htab.h - an intrusive chained hash table: the caller embeds a struct
 * zc_hnode in its entries, hashes its own key (zc_hash_fnv1a) and compares
 * keys itself while walking a bucket. The table doubles its buckets when it
 * holds more entries than buckets; it never shrinks. Not thread-safe. */
#ifndef ZC_BROKER_HTAB_H
#define ZC_BROKER_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct zc_hnode {
    struct zc_hnode *next;
    uint32_t hash;
};

struct zc_htab {
    struct zc_hnode **buckets;
    size_t n_buckets;               /* a power of two */
    size_t n;
};

#define ZC_FNV1A_INIT 2166136261u

/* FNV-1a over @len bytes, continuing from @h (ZC_FNV1A_INIT to start). */
uint32_t zc_hash_fnv1a(uint32_t h, const void *p, size_t len);

/* Return: 0 or -ENOMEM. */
int zc_htab_init(struct zc_htab *t);
/* Frees the buckets, not the entries (walk them first). */
void zc_htab_free(struct zc_htab *t);

/* The chain for @hash: walk it with ->next, comparing ->hash and the key.
 * The address of a link is what zc_htab_unlink takes. */
static inline struct zc_hnode **zc_htab_chain(struct zc_htab *t, uint32_t hash)
{
    return &t->buckets[hash & (t->n_buckets - 1)];
}

/* Add @n (its ->hash set); grows the table when it can. */
void zc_htab_insert(struct zc_htab *t, struct zc_hnode *n);
/* Remove the entry *@link points at (a link found in its chain). */
void zc_htab_unlink(struct zc_htab *t, struct zc_hnode **link);

/* Every entry: for (i...) for (n = buckets[i]; ...). Removing the current
 * entry while walking is fine if ->next was read first. */
#define zc_htab_each(t, i, node)                                               \
    for (size_t i = 0; i < (t)->n_buckets; i++)                                \
        for (struct zc_hnode *node = (t)->buckets[i], *node##_next;            \
             node && ((node##_next = node->next), 1); node = node##_next)

#endif /* ZC_BROKER_HTAB_H */
