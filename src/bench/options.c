/* options.c - the command line of `zcopy bench`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const sink_names[BENCH_SINK_COUNT] = {
    [BENCH_SINK_TCP] = "tcp",
    [BENCH_SINK_UNIX] = "unix",
    [BENCH_SINK_PIPE] = "pipe",
    [BENCH_SINK_FILE] = "file",
    [BENCH_SINK_DEVNULL] = "devnull",
    [BENCH_SINK_VETH] = "veth",
};

const char *bench_sink_name(enum bench_sink s)
{
    return (unsigned)s < BENCH_SINK_COUNT ? sink_names[s] : "unknown";
}

int bench_sink_parse(const char *name, enum bench_sink *out)
{
    for (unsigned i = 0; i < BENCH_SINK_COUNT; i++) {
        if (!strcmp(name, sink_names[i])) {
            *out = (enum bench_sink)i;
            return 0;
        }
    }
    return -EINVAL;
}

void bench_usage(FILE *out)
{
    fprintf(out,
"usage: zcopy bench [options]\n"
"\n"
"Measure every libzcopy method against every sink it serves and print the\n"
"reference articles' comparison table (CPU copies, DMA copies, switches) next\n"
"to what this machine really does.\n"
"\n"
"  --method LIST   methods to run (repeatable, or comma separated):\n"
"                  readwrite mmap sendfile splice copy_file_range msg_zerocopy\n"
"                  uring direct auto; default: all but auto\n"
"  --sink LIST     tcp unix pipe file devnull veth (repeatable or comma\n"
"                  separated); default: all but veth (veth with --netns)\n"
"  --size N        bytes per transfer, k/M/G suffixes (binary); default 1G.\n"
"                  Below 64M a run repeats the transfer (about 64 MiB in all,\n"
"                  at most 20000 times or 5 s) and reports ns per transfer\n"
"  --runs N        runs per method x sink, interleaved; median shown with\n"
"                  min-max (default 3)\n"
"  --cold          evict the source from the page cache before each run\n"
"  --direct-depth N  reads the direct method keeps in flight (1..64;\n"
"                  default: the library's, 4)\n"
"  --direct-buf N  bytes per direct read, k/M suffixes (up to 64M; default:\n"
"                  the library's, 2M)\n"
"  --dir DIR       where the source file is created (default /var/tmp)\n"
"  --netns         also TCP between two network namespaces over veth (root)\n"
"  --format F      table (default), csv or json\n"
"  --plot FILE     also draw FILE.svg or FILE.png with gnuplot\n"
"  --fanout LIST   instead: one generated message (--size, default 64K) to N\n"
"                  receivers for each N in LIST (e.g. 1,8,64), by --method\n"
"                  write, pool, pool-map, pool-ref (zc_pool) and vmsplice (+tee),\n"
"                  over --sink unix and tcp; adds the copy-on-write\n"
"                  measurements (reflink on a loop-mounted XFS image when run\n"
"                  as root)\n"
"  -h, --help      this text\n"
"\n"
"With --method and --sink both given, every pair is tried and a method that\n"
"cannot serve a sink shows 'n/a (method refused: ERRNO)'. Otherwise only the\n"
"pairs each method is meant for run. The default (all methods, five sinks,\n"
"1 GiB, 3 runs) takes one to three minutes on a 2-core machine.\n");
}

int bench_parse_size(const char *s, uint64_t *out)
{
    char *end;
    double v, mult = 1;

    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return -EINVAL;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    /* Accept "1G", "1GiB" and "1GB" alike: all binary here. */
    if (mult > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end)
        return -EINVAL;
    v *= mult;
    if (v < 1 || v > (double)((uint64_t)1 << 50))
        return -EINVAL;
    *out = (uint64_t)v;
    return 0;
}

/* Each comma separated name of @list sets a bit in *mask. Methods are
 * libzcopy's, or with --fanout the fan-out ones. */
static int parse_list(const char *list, bool methods, bool fanout, uint32_t *mask)
{
    char *copy = strdup(list), *save = NULL, *tok;
    int ret = 0;

    if (!copy)
        return -ENOMEM;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (methods && fanout) {
            enum bench_fanout_method m;

            if (bench_fanout_method_parse(tok, &m) < 0) {
                fprintf(stderr, "zcopy bench: unknown --fanout method '%s' "
                        "(write, pool, pool-map, pool-ref, vmsplice)\n", tok);
                ret = -EINVAL;
                break;
            }
            *mask |= 1u << m;
        } else if (methods) {
            enum zc_method m;

            if (zc_method_parse(tok, &m) < 0) {
                fprintf(stderr, "zcopy bench: unknown method '%s'\n", tok);
                ret = -EINVAL;
                break;
            }
            *mask |= 1u << m;
        } else {
            enum bench_sink s;

            if (bench_sink_parse(tok, &s) < 0) {
                fprintf(stderr, "zcopy bench: unknown sink '%s'\n", tok);
                ret = -EINVAL;
                break;
            }
            *mask |= 1u << s;
        }
    }
    free(copy);
    return ret;
}

/* A whole number 1..@max for option @name; the reason goes to stderr. */
static int parse_count(const char *name, const char *arg, unsigned max, unsigned *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*end || end == arg || v < 1 || v > (long)max) {
        fprintf(stderr, "zcopy bench: bad %s '%s' (1..%u)\n", name, arg, max);
        return -EINVAL;
    }
    *out = (unsigned)v;
    return 0;
}

/* "1,8,64": receiver counts, each 1..BENCH_RECEIVERS_MAX. */
static int parse_fanout(const char *list, struct bench_opts *o)
{
    const char *p = list;

    o->nfanout = 0;
    for (;;) {
        char *end;
        long v = strtol(p, &end, 10);

        if (end == p || v < 1 || v > BENCH_RECEIVERS_MAX ||
            o->nfanout == BENCH_FANOUT_MAX || (*end && *end != ',')) {
            fprintf(stderr, "zcopy bench: bad --fanout '%s' (e.g. 1,8,64; at most %d "
                    "counts of 1..%d)\n", list, BENCH_FANOUT_MAX, BENCH_RECEIVERS_MAX);
            return -EINVAL;
        }
        o->fanout[o->nfanout++] = (unsigned)v;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

/* --fanout: 64 KiB messages, all three methods, AF_UNIX and TCP only. */
static int fanout_defaults(struct bench_opts *o)
{
    const uint32_t ok_sinks = (1u << BENCH_SINK_UNIX) | (1u << BENCH_SINK_TCP);

    if (!o->size_given)
        o->size = BENCH_FANOUT_DEFAULT_SIZE;
    if (o->size > BENCH_FANOUT_MAX_SIZE) {
        fprintf(stderr, "zcopy bench: --fanout messages are at most 1 MiB (the largest "
                "pipe vmsplice and tee can use here)\n");
        return -EINVAL;
    }
    if (!o->methods_given)
        o->methods = (1u << BENCH_FANOUT_METHOD_COUNT) - 1;
    if (!o->sinks_given)
        o->sinks = ok_sinks;
    if (o->sinks & ~ok_sinks) {
        fprintf(stderr, "zcopy bench: --fanout sends over unix and tcp sinks only\n");
        return -EINVAL;
    }
    return 0;
}

int bench_parse_options(int argc, char **argv, struct bench_opts *o)
{
    const char *method_args[32];
    unsigned nmethod_args = 0;
    enum { OPT_METHOD = 256, OPT_SINK, OPT_SIZE, OPT_RUNS, OPT_COLD, OPT_DIR,
           OPT_NETNS, OPT_FORMAT, OPT_PLOT, OPT_FANOUT, OPT_DIRECT_DEPTH,
           OPT_DIRECT_BUF };
    static const struct option longopts[] = {
        { "method", required_argument, NULL, OPT_METHOD },
        { "sink", required_argument, NULL, OPT_SINK },
        { "size", required_argument, NULL, OPT_SIZE },
        { "runs", required_argument, NULL, OPT_RUNS },
        { "cold", no_argument, NULL, OPT_COLD },
        { "direct-depth", required_argument, NULL, OPT_DIRECT_DEPTH },
        { "direct-buf", required_argument, NULL, OPT_DIRECT_BUF },
        { "dir", required_argument, NULL, OPT_DIR },
        { "netns", no_argument, NULL, OPT_NETNS },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "plot", required_argument, NULL, OPT_PLOT },
        { "fanout", required_argument, NULL, OPT_FANOUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct bench_opts){
        .size = (uint64_t)1 << 30,
        .runs = 3,
        .dir = "/var/tmp",
        .format = BENCH_FORMAT_TABLE,
    };
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_METHOD:
            /* Parsed after the loop: --fanout, wherever it stands, says
             * which methods the names are. */
            if (nmethod_args == sizeof(method_args) / sizeof(method_args[0])) {
                fprintf(stderr, "zcopy bench: too many --method options\n");
                return -EINVAL;
            }
            method_args[nmethod_args++] = optarg;
            o->methods_given = true;
            break;
        case OPT_SINK:
            if (parse_list(optarg, false, false, &o->sinks) < 0)
                return -EINVAL;
            o->sinks_given = true;
            break;
        case OPT_SIZE:
            if (bench_parse_size(optarg, &o->size) < 0) {
                fprintf(stderr, "zcopy bench: bad --size '%s' (e.g. 4K, 64M, 1G)\n",
                        optarg);
                return -EINVAL;
            }
            o->size_given = true;
            break;
        case OPT_FANOUT:
            if (parse_fanout(optarg, o) < 0)
                return -EINVAL;
            break;
        case OPT_RUNS:
            if (parse_count("--runs", optarg, 1000, &o->runs) < 0)
                return -EINVAL;
            break;
        case OPT_COLD:
            o->cold = true;
            break;
        case OPT_DIRECT_DEPTH:
            if (parse_count("--direct-depth", optarg, 64, &o->direct_depth) < 0)
                return -EINVAL;
            break;
        case OPT_DIRECT_BUF:
            if (bench_parse_size(optarg, &o->direct_buf) < 0 ||
                o->direct_buf > ((uint64_t)64 << 20)) {
                fprintf(stderr, "zcopy bench: bad --direct-buf '%s' (e.g. 256K, 1M; "
                        "at most 64M)\n", optarg);
                return -EINVAL;
            }
            break;
        case OPT_DIR:
            o->dir = optarg;
            break;
        case OPT_NETNS:
            o->netns = true;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "table"))
                o->format = BENCH_FORMAT_TABLE;
            else if (!strcmp(optarg, "csv"))
                o->format = BENCH_FORMAT_CSV;
            else if (!strcmp(optarg, "json"))
                o->format = BENCH_FORMAT_JSON;
            else {
                fprintf(stderr, "zcopy bench: bad --format '%s' (table, csv, json)\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case OPT_PLOT: {
            const char *dot = strrchr(optarg, '.');

            if (!dot || (strcmp(dot, ".svg") && strcmp(dot, ".png"))) {
                fprintf(stderr, "zcopy bench: --plot wants FILE.svg or FILE.png\n");
                return -EINVAL;
            }
            o->plot = optarg;
            break;
        }
        case 'h':
            bench_usage(stdout);
            return 1;
        default:
            bench_usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zcopy bench: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    for (unsigned i = 0; i < nmethod_args; i++)
        if (parse_list(method_args[i], true, o->nfanout > 0, &o->methods) < 0)
            return -EINVAL;
    if (o->nfanout)
        return fanout_defaults(o);
    if (!o->methods_given)
        o->methods = ((1u << ZC_METHOD_COUNT) - 1) & ~(1u << ZC_AUTO);
    if (!o->sinks_given) {
        o->sinks = ((1u << BENCH_SINK_COUNT) - 1) & ~(1u << BENCH_SINK_VETH);
        if (o->netns)
            o->sinks |= 1u << BENCH_SINK_VETH;
    }
    if ((o->sinks & (1u << BENCH_SINK_VETH)))
        o->netns = true;
    return 0;
}
