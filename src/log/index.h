/* index.h - a segment's sparse indexes, as Kafka lays them out (big-endian):
 * offset index entries (relative offset i32, file position i32) and time
 * index entries (timestamp i64, relative offset i32). The file of the active
 * segment is preallocated to its capacity and mapped; entries are written
 * through the mapping, and the file is trimmed to the entries when the
 * segment rolls or the log closes. Every access to the mapping runs under the
 * SIGBUS guard. Callers serialise (the partition lock). */
#ifndef ZC_LOG_INDEX_H
#define ZC_LOG_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum zc_index_kind { ZC_INDEX_OFFSET = 8, ZC_INDEX_TIME = 12 };  /* entry size */

struct zc_index {
    int fd;
    uint8_t *map;
    size_t map_len;
    uint32_t entries;                   /* valid entries */
    uint32_t capacity;                  /* entries the file/mapping hold */
    unsigned entry_size;
    bool writable;                      /* preallocated and mapped shared */
    bool damaged;                       /* was missing, or not whole entries */
};

/* zc_index_open - open (creating when missing) the index at @path. @writable:
 * the active segment's, grown to @capacity entries and mapped read-write;
 * otherwise mapped read-only at its length. Entries loaded: the file length
 * over the entry size, or 0 when @fresh (the index will be rebuilt).
 * Return: 0 or -errno. */
int zc_index_open(struct zc_index *ix, const char *path, enum zc_index_kind kind,
                  bool writable, uint32_t capacity, bool fresh);
/* Unmap and close; NULL-safe on a zeroed struct (fd 0 is never ours: -1). */
void zc_index_close(struct zc_index *ix);

/* zc_index_sane - the file existed and held whole entries, the loaded entries increase, and offset entries point
 * inside @log_size bytes and below @next_rel (time entries: offsets below
 * @next_rel). False means rebuild. */
bool zc_index_sane(struct zc_index *ix, uint64_t log_size, int64_t next_rel);

/* Append an entry. Return: 0, -ENOSPC when full, -EIO (mapping fault). */
int zc_index_append_offset(struct zc_index *ix, uint32_t rel, uint32_t pos);
int zc_index_append_time(struct zc_index *ix, int64_t ts, uint32_t rel);

/* zc_index_lookup_offset - the last entry whose offset is <= @rel: *pos is its
 * position (0 when none). Return: 0 or -EIO. */
int zc_index_lookup_offset(struct zc_index *ix, uint32_t rel, uint32_t *pos);
/* zc_index_lookup_time - the last entry whose timestamp is < @ts: *rel its
 * offset (0 when none). Return: 0 or -EIO. */
int zc_index_lookup_time(struct zc_index *ix, int64_t ts, uint32_t *rel);
/* The last time entry, or -1 timestamp when none. Return: 0 or -EIO. */
int zc_index_last_time(struct zc_index *ix, int64_t *ts, uint32_t *rel);
/* Read entry @i. Return: 0 or -EIO. */
int zc_index_entry(struct zc_index *ix, uint32_t i, int64_t *key, int64_t *value);

/* zc_index_trim - cut the file to its entries and map it read-only (the
 * segment became inactive, or the log closes). Return: 0 or -errno. */
int zc_index_trim(struct zc_index *ix);
/* zc_index_sync - fsync the file (through the mapping too). */
int zc_index_sync(struct zc_index *ix);
/* Forget every entry (before a rebuild). */
void zc_index_reset(struct zc_index *ix);
/* True when one more entry does not fit. */
static inline bool zc_index_full(const struct zc_index *ix)
{
    return ix->writable && ix->entries >= ix->capacity;
}

#endif /* ZC_LOG_INDEX_H */
