/* report.c - the --stats report shared by get, put and cp. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

void zc_report_stats(FILE *out, const char *tool, const zc_ctx *ctx)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    fprintf(out, "zcopy %s: stats: %" PRIu64 " bytes moved by libzcopy in %" PRIu64
            " transfer calls, %" PRIu64 " syscalls (+%" PRIu64
            " issued by zcopy %s itself)\n",
            tool, st.bytes, st.calls, st.syscalls, zc_client_syscalls, tool);
    for (unsigned m = 0; m < ZC_METHOD_COUNT; m++) {
        const struct zc_method_stats *ms = &st.method[m];

        if (!ms->calls && !ms->bytes && !ms->syscalls)
            continue;
        if (m == ZC_AUTO) {
            /* Billed to auto: the fstat of both fds that picks the method. */
            fprintf(out, "zcopy %s: stats: auto's choice of method: %" PRIu64
                    " syscalls\n", tool, ms->syscalls);
            continue;
        }
        fprintf(out, "zcopy %s: stats: method %s: %" PRIu64 " bytes, %" PRIu64
                " syscalls, %" PRIu64 " calls, %" PRIu64 " refused, %" PRIu64
                " errors\n", tool, zc_method_name((enum zc_method)m), ms->bytes,
                ms->syscalls, ms->calls, ms->refused, ms->errors);
    }
    for (unsigned i = 0; i < st.fallback_log_len; i++) {
        const struct zc_fallback *f = &st.fallback_log[i];

        fprintf(out, "zcopy %s: stats: fallback %s -> %s (%s)\n", tool,
                zc_method_name((enum zc_method)f->from),
                zc_method_name((enum zc_method)f->to), strerror(-f->error));
    }
}

int zc_parse_timeout_opt(const char *s, int *ms)
{
    char *end;
    double sec = strtod(s, &end);

    if (end == s || *end || !(sec > 0) || sec > 86400)
        return -EINVAL;
    /* Sub-millisecond values still mean "a timeout", not "none". */
    *ms = (int)(sec * 1000) ? (int)(sec * 1000) : 1;
    return 0;
}
