/* response.c - a response under construction: a buffer with file ranges
 * spliced in (broker.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

void zc_kresp_begin(struct zc_kresp *resp, int32_t correlation_id)
{
    memset(resp, 0, sizeof(*resp));
    zc_kw_i32(&resp->w, 0);             /* size, patched by zc_kresp_finish */
    zc_kw_i32(&resp->w, correlation_id);
}

void zc_kresp_add_range(struct zc_kresp *resp, struct zc_log_range *r)
{
    if (r->len == 0) {
        zc_log_range_release(r);
        return;
    }
    if (resp->nranges == resp->cap_ranges) {
        unsigned cap = resp->cap_ranges ? resp->cap_ranges * 2 : 8;
        struct zc_kresp_range *n = realloc(resp->ranges, cap * sizeof(*n));

        if (!n) {
            resp->failed = true;
            zc_log_range_release(r);
            return;
        }
        resp->ranges = n;
        resp->cap_ranges = cap;
    }
    resp->ranges[resp->nranges].at = resp->w.len;
    resp->ranges[resp->nranges].r = *r;
    resp->nranges++;
    resp->range_bytes += r->len;
    memset(r, 0, sizeof(*r));
}

int zc_kresp_finish(struct zc_kresp *resp)
{
    uint64_t size = resp->w.len - 4 + resp->range_bytes;

    if (resp->w.oom || resp->failed)
        return -ENOMEM;
    if (size > INT32_MAX)
        return -EMSGSIZE;
    zc_kw_patch_i32(&resp->w, 0, (int32_t)size);
    return 0;
}

void zc_kresp_free(struct zc_kresp *resp)
{
    for (unsigned i = 0; i < resp->nranges; i++)
        zc_log_range_release(&resp->ranges[i].r);
    free(resp->ranges);
    resp->ranges = NULL;
    resp->nranges = resp->cap_ranges = 0;
    zc_kw_free(&resp->w);
}
