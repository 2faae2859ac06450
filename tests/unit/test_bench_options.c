/* test_bench_options.c - zcopy bench's command line: sizes with suffixes,
 * method and sink lists (repeatable, comma separated), the defaults, and
 * the refusals of bad input. */
#include <errno.h>
#include <stdio.h>

#include "bench/bench.h"
#include "tap.h"

static const struct size_case {
    const char *in;
    int ret;
    uint64_t want;
} sizes[] = {
    { "4096", 0, 4096 },
    { "4K", 0, 4096 },
    { "4k", 0, 4096 },
    { "1M", 0, 1 << 20 },
    { "1.5M", 0, 3 << 19 },
    { "1G", 0, (uint64_t)1 << 30 },
    { "1GiB", 0, (uint64_t)1 << 30 },
    { "2GB", 0, (uint64_t)2 << 30 },
    { "0", -EINVAL, 0 },
    { "-1", -EINVAL, 0 },
    { "", -EINVAL, 0 },
    { "12X", -EINVAL, 0 },
    { "1Kb", -EINVAL, 0 },
    { "K", -EINVAL, 0 },
    { "nan", -EINVAL, 0 },
};

static int parse(struct bench_opts *o, int argc, char **argv)
{
    int ret;

    /* getopt prints its own complaints: keep TAP output clean. */
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    ret = bench_parse_options(argc, argv, o);
    fclose(stderr);
    stderr = saved;
    return ret;
}

int main(void)
{
    struct bench_opts o;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t v = 0;

        t_is_int(bench_parse_size(sizes[i].in, &v), sizes[i].ret, "size \"%s\"", sizes[i].in);
        if (sizes[i].ret == 0)
            t_is_int(v, sizes[i].want, "size \"%s\" value", sizes[i].in);
    }

    char *none[] = { "bench", NULL };
    t_is_int(parse(&o, 1, none), 0, "no options");
    t_is_int(o.size, (uint64_t)1 << 30, "default size 1 GiB");
    t_is_int(o.runs, 3, "default runs 3");
    t_is_int(o.methods, ((1u << ZC_METHOD_COUNT) - 1) & ~(1u << ZC_AUTO),
             "default methods: all but auto");
    t_is_int(o.sinks, ((1u << BENCH_SINK_COUNT) - 1) & ~(1u << BENCH_SINK_VETH),
             "default sinks: all but veth");
    t_ok(!o.netns && !o.cold && o.format == BENCH_FORMAT_TABLE && !o.plot, "default flags");

    char *lists[] = { "bench", "--method", "sendfile,splice", "--method", "readwrite",
                      "--sink", "tcp", "--sink=pipe,devnull", "--size", "4K", "--runs",
                      "5", "--format", "json", "--cold", "--plot", "x.svg", NULL };
    t_is_int(parse(&o, 17, lists), 0, "lists, repeats, every option");
    t_is_int(o.methods, (1u << ZC_SENDFILE) | (1u << ZC_SPLICE) | (1u << ZC_READWRITE),
             "methods from two options");
    t_is_int(o.sinks, (1u << BENCH_SINK_TCP) | (1u << BENCH_SINK_PIPE) |
                      (1u << BENCH_SINK_DEVNULL), "sinks from two options");
    t_ok(o.methods_given && o.sinks_given, "both named");
    t_is_int(o.size, 4096, "--size 4K");
    t_is_int(o.runs, 5, "--runs 5");
    t_ok(o.cold && o.format == BENCH_FORMAT_JSON, "--cold --format json");
    t_is_str(o.plot, "x.svg", "--plot");

    char *veth[] = { "bench", "--sink", "veth", NULL };
    t_is_int(parse(&o, 3, veth), 0, "--sink veth");
    t_ok(o.netns, "--sink veth implies --netns");
    char *netns[] = { "bench", "--netns", NULL };
    t_is_int(parse(&o, 2, netns), 0, "--netns");
    t_ok(o.sinks & (1u << BENCH_SINK_VETH), "--netns adds the veth sink");

    char *bad_method[] = { "bench", "--method", "sendfile,teleport", NULL };
    t_is_int(parse(&o, 3, bad_method), -EINVAL, "unknown method refused");
    char *bad_sink[] = { "bench", "--sink", "carrier-pigeon", NULL };
    t_is_int(parse(&o, 3, bad_sink), -EINVAL, "unknown sink refused");
    char *bad_runs[] = { "bench", "--runs", "0", NULL };
    t_is_int(parse(&o, 3, bad_runs), -EINVAL, "--runs 0 refused");
    char *bad_plot[] = { "bench", "--plot", "x.pdf", NULL };
    t_is_int(parse(&o, 3, bad_plot), -EINVAL, "--plot wants .svg or .png");
    char *bad_format[] = { "bench", "--format", "xml", NULL };
    t_is_int(parse(&o, 3, bad_format), -EINVAL, "--format xml refused");
    char *extra[] = { "bench", "stray", NULL };
    t_is_int(parse(&o, 2, extra), -EINVAL, "stray argument refused");

    /* --fanout: receiver counts, its own methods, 64 KiB messages by
     * default, unix and tcp only; --method may come before it. */
    char *fan[] = { "bench", "--method", "pool,write", "--fanout", "1,8,64", NULL };
    t_is_int(parse(&o, 5, fan), 0, "--fanout 1,8,64 after --method pool,write");
    t_ok(o.nfanout == 3 && o.fanout[0] == 1 && o.fanout[1] == 8 && o.fanout[2] == 64,
         "--fanout counts in order");
    t_is_int(o.methods, (1u << BENCH_FANOUT_POOL) | (1u << BENCH_FANOUT_WRITE),
             "--fanout methods parsed as fan-out methods");
    t_is_int(o.size, 64 << 10, "--fanout: 64 KiB messages by default");
    t_is_int(o.sinks, (1u << BENCH_SINK_UNIX) | (1u << BENCH_SINK_TCP),
             "--fanout: unix and tcp by default");
    char *fan_all[] = { "bench", "--fanout", "2", "--size", "1M", NULL };
    t_is_int(parse(&o, 5, fan_all), 0, "--fanout 2 --size 1M");
    t_is_int(o.methods, (1u << BENCH_FANOUT_METHOD_COUNT) - 1, "--fanout: every method");
    t_is_int(o.size, 1 << 20, "--fanout: --size kept");
    char *fan_big[] = { "bench", "--fanout", "2", "--size", "2M", NULL };
    t_is_int(parse(&o, 5, fan_big), -EINVAL, "--fanout: messages over 1 MiB refused");
    char *fan_pipe[] = { "bench", "--fanout", "2", "--sink", "pipe", NULL };
    t_is_int(parse(&o, 5, fan_pipe), -EINVAL, "--fanout: pipe sink refused");
    char *fan_zero[] = { "bench", "--fanout", "1,0", NULL };
    t_is_int(parse(&o, 3, fan_zero), -EINVAL, "--fanout 1,0 refused");
    char *fan_junk[] = { "bench", "--fanout", "8x", NULL };
    t_is_int(parse(&o, 3, fan_junk), -EINVAL, "--fanout 8x refused");
    char *fan_method[] = { "bench", "--fanout", "1", "--method", "sendfile", NULL };
    t_is_int(parse(&o, 5, fan_method), -EINVAL, "--fanout with a zc method refused");
    char *no_fan_method[] = { "bench", "--method", "pool", NULL };
    t_is_int(parse(&o, 3, no_fan_method), -EINVAL, "pool without --fanout refused");
    for (int m = 0; m < BENCH_FANOUT_METHOD_COUNT; m++) {
        enum bench_fanout_method back;

        t_is_int(bench_fanout_method_parse(bench_fanout_method_name(
                     (enum bench_fanout_method)m), &back), 0, "fan-out method %d parses", m);
        t_is_int(back, m, "fan-out method %d round-trips", m);
    }

    for (int s = 0; s < BENCH_SINK_COUNT; s++) {
        enum bench_sink back;

        t_is_int(bench_sink_parse(bench_sink_name((enum bench_sink)s), &back), 0,
                 "sink %s parses", bench_sink_name((enum bench_sink)s));
        t_is_int(back, s, "sink %s round-trips", bench_sink_name((enum bench_sink)s));
    }
    return t_done();
}
