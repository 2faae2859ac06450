/* bench.h - `zcopy bench`: the reference articles' comparison table, measured.
 *
 * The parts, one file each: options.c (command line), source.c (the source
 * file), sinks.c (receiver processes and sink fds), netns.c (two network
 * namespaces joined by a veth pair), runner.c (one measurement and the
 * median over runs), theory.c (the articles' figures), memrate.c (memcpy rate
 * and the copies-per-byte estimate), verdict.c (where measurement and
 * articles disagree, and why), machine.c (the machine description),
 * render_table.c / render_csv.c / render_json.c (outputs), plot.c (gnuplot),
 * bench_main.c (the command).
 *
 * `--fanout` (one message to N receivers, zc_pool's benchmark): fanout.c
 * (the senders: write, pool, vmsplice), fanout_conn.c (N connections and
 * their draining receiver process), fanout_main.c (interleaved runs,
 * medians, ratios), cow.c (the copy-on-write measurements), fanout_render.c
 * (table, CSV, JSON, and the comparison rows). */
#ifndef ZC_BENCH_H
#define ZC_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/types.h>

#include "zcopy.h"

/* Where the bytes go. Names are the `sink` values of every output. */
enum bench_sink {
    BENCH_SINK_TCP,         /* TCP over 127.0.0.1, receiver in another process */
    BENCH_SINK_UNIX,        /* AF_UNIX stream, receiver in another process */
    BENCH_SINK_PIPE,        /* pipe drained by a reader process */
    BENCH_SINK_FILE,        /* regular file next to the source */
    BENCH_SINK_DEVNULL,     /* /dev/null */
    BENCH_SINK_VETH,        /* TCP between two network namespaces over veth */
    BENCH_SINK_COUNT
};

enum bench_format { BENCH_FORMAT_TABLE, BENCH_FORMAT_CSV, BENCH_FORMAT_JSON };

/* Below this size fixed per-call costs, not copies, dominate a transfer. */
#define BENCH_SMALL_SIZE ((uint64_t)1 << 20)
/* Below this size a run repeats the transfer (about 64 MiB in all) and
 * reports ns per transfer, so CPU times are long enough to mean something;
 * from it up, a run is one transfer. */
#define BENCH_REPEAT_BELOW ((uint64_t)64 << 20)

struct bench_opts {
    uint32_t methods;       /* bit per enum zc_method */
    uint32_t sinks;         /* bit per enum bench_sink */
    bool methods_given, sinks_given;
    uint64_t size;          /* bytes per transfer */
    unsigned runs;
    bool cold;
    bool netns;
    const char *dir;        /* where the source file lives */
    /* The direct method's reads in flight and bytes per read; 0: the
     * library's defaults. */
    unsigned direct_depth;
    uint64_t direct_buf;
    enum bench_format format;
    const char *plot;       /* FILE.svg or FILE.png, or NULL */
    bool size_given;
    unsigned fanout[16];    /* --fanout receiver counts (BENCH_FANOUT_MAX) */
    unsigned nfanout;       /* 0: the method x sink table instead */
};

/* Parse argv (argv[0] is "bench"). Return: 0, 1 when --help was printed, or
 * -EINVAL after printing the reason to stderr. */
int bench_parse_options(int argc, char **argv, struct bench_opts *o);
void bench_usage(FILE *out);
/* "1G", "4k", "65536", "1.5M" (binary multiples). Return: 0, or -EINVAL. */
int bench_parse_size(const char *s, uint64_t *out);
const char *bench_sink_name(enum bench_sink s);
int bench_sink_parse(const char *name, enum bench_sink *out);

struct bench_machine {
    char kernel[256];       /* "Linux 6.18.0 x86_64" */
    char cpu[128];          /* model name */
    bool virtual_machine;   /* the CPU reports a hypervisor */
    int cores;
    uint64_t mem_bytes;
    char fs[32];            /* filesystem of the source file's directory */
    char dir[256];
    double memcpy_gbps;     /* measured on this run, NaN when not */
    uint64_t memcpy_block;  /* buffer size the rate was measured with */
};

void bench_machine_describe(struct bench_machine *m, const char *dir);
/* Best of a few timed memcpy passes over @block-byte buffers, in GB/s
 * (1e9 bytes per second); NaN if the buffers cannot be allocated. */
double bench_memcpy_rate(uint64_t block);
/* The block size the rate is measured with for transfers of @size bytes. */
uint64_t bench_memcpy_block(uint64_t size);
/* ESTIMATE of CPU copies per byte: CPU seconds per GB x memcpy GB/s. */
double bench_copies_estimate(double cpu_s_per_gb, double memcpy_gbps);

/* The articles' figures for one technique. NULL strings where the articles
 * say nothing (io_uring, MSG_ZEROCOPY, copy_file_range are newer). */
struct bench_theory {
    const char *cpu_copies;     /* "2", "1 (0 with SG-DMA)" */
    const char *dma_copies;
    const char *switches;       /* user/kernel switches per call group */
    const char *brief;          /* "cpu/dma/switches" for the table, "-" if none */
    double cpu_num;             /* the CPU copies as a number, NaN if none */
    double switches_num;        /* per transfer of a whole file; NaN if per chunk */
    const char *source;         /* where in ../shared/seeds/ */
};
const struct bench_theory *bench_theory(enum zc_method m);
/* Pairs the technique is meant for (DESIGN.md); the default run uses only these. */
bool bench_method_serves(enum zc_method m, enum bench_sink s);

/* What the receiving process measured about itself, sent back over a pipe. */
struct bench_rcv_report {
    uint64_t bytes;
    double user, sys;           /* CPU seconds */
    uint64_t nvcsw, nivcsw;
    int error;                  /* -errno of a failed read, else 0 */
};

struct bench_netns;

/* An open sink for one measurement. */
struct bench_sink_conn {
    enum bench_sink sink;
    int out_fd;
    pid_t receiver;             /* -1 when the sink has no receiving process */
    int report_fd;              /* read end of the receiver's report pipe */
    char path[512];             /* file sink: its path, removed on finish */
};

/* Return: 0, or -errno (-EPERM: --netns needs root; -ENODEV: not set up). */
int bench_sink_open(enum bench_sink s, const char *dir, struct bench_netns *ns,
                    struct bench_sink_conn *c);
/* Close the sink and collect the receiver's report (waits at most
 * @timeout_s, then kills it). *rep is zeroed for sinks without a receiver.
 * Return: 0, 1 when there was a receiver report, or -errno. */
int bench_sink_finish(struct bench_sink_conn *c, struct bench_rcv_report *rep,
                      int timeout_s);
/* Kill and reap the current receiver, if any (from a signal handler). */
void bench_sink_kill_current(void);

/* Network namespaces held only by open fds of this process: they (and the
 * veth pair) vanish with the process however it ends. */
struct bench_netns {
    int orig_fd, ns_fd[2];
    bool up;
};
int bench_netns_setup(struct bench_netns *ns);
void bench_netns_teardown(struct bench_netns *ns);
/* A connected TCP pair across the veth: *client in namespace 0 (10.231.0.1),
 * *server in namespace 1 (10.231.0.2). Return: 0, or -errno. */
int bench_netns_tcp_pair(struct bench_netns *ns, int *client, int *server);

/* The source file. */
int bench_source_create(const char *dir, uint64_t size, char *path, size_t path_len);
void bench_source_remove(void);

enum bench_status { BENCH_OK, BENCH_REFUSED, BENCH_FAILED, BENCH_NOT_RUN };

/* One run of one method x sink. */
struct bench_sample {
    double seconds;             /* sender wall time for all transfers */
    double user, sys;           /* sender CPU seconds (RUSAGE_SELF: io-wq included) */
    double rcv_user, rcv_sys;   /* NaN without a receiver */
    uint64_t bytes;             /* moved, as zc_transfer reported */
    uint64_t transfers;
    uint64_t syscalls;          /* exact, zc_ctx_stats */
    uint64_t ctx_switches;      /* ru_nvcsw + ru_nivcsw */
    uint64_t page_faults;       /* ru_minflt + ru_majflt */
    uint64_t zc_sent, zc_copied;
};

struct bench_job {
    enum zc_method method;
    enum bench_sink sink;
    int src_fd;
    uint64_t size;              /* bytes per transfer */
    uint64_t transfers;         /* at most this many per run */
    double time_budget_s;       /* stop repeating after this */
    bool cold;
    const char *dir;
    struct bench_netns *ns;
};

/* Transfers per run for @size: 1 from BENCH_REPEAT_BELOW up, else enough to
 * move about 64 MiB, at most 20000. */
uint64_t bench_transfers_for(uint64_t size);

/* Run once. Return: 0, or -errno: a refusal (nothing moved, the method
 * cannot serve the pair) is told apart by zc_method_refused(). */
int bench_run_once(zc_ctx *ctx, const struct bench_job *job, struct bench_sample *s);

/* The row of every output: one method x sink, medians over its runs. */
struct bench_record {
    enum zc_method method;
    enum bench_sink sink;
    enum bench_status status;
    int error;                  /* -errno when refused or failed */
    uint64_t size, transfers;   /* per run */
    unsigned runs;
    double gbps, gbps_min, gbps_max;
    double ns_per_transfer;
    double user_s_gb, sys_s_gb, cpu_s_gb;   /* sender */
    double rcv_s_gb;                        /* receiver user + sys, NaN if none */
    uint64_t bytes;                         /* per run */
    uint64_t syscalls;                      /* per run */
    double syscalls_per_transfer;
    double switches_per_transfer;           /* the articles' count: 2 per syscall */
    uint64_t ctx_switches, page_faults;     /* per run */
    uint64_t zc_sent, zc_copied;            /* per run */
    double est_copies;                      /* ESTIMATE, NaN if not computable */
    char verdict[1024];                     /* "" when measurement agrees */
};

/* Fill @r's measured fields from @n samples (medians, min-max). */
void bench_aggregate(struct bench_record *r, const struct bench_sample *s, size_t n,
                     double memcpy_gbps);
/* Where measurement contradicts the articles, and why; "" if it does not. */
void bench_verdict(const struct bench_record *r, char *out, size_t len);

struct bench_report {
    struct bench_machine machine;
    char command[512];
    uint64_t size;
    unsigned runs;
    bool cold;
    unsigned direct_depth;      /* as given; 0: library default */
    uint64_t direct_buf;
    size_t n;
    struct bench_record *rec;
};

int bench_render_table(FILE *out, const struct bench_report *r);
int bench_render_csv(FILE *out, const struct bench_report *r);
int bench_render_json(FILE *out, const struct bench_report *r);
/* Draw throughput and CPU per GB per method x sink with gnuplot.
 * Return: 0, -ENOENT without gnuplot, -EINVAL for an unknown extension. */
int bench_plot(const char *file, const struct bench_report *r);

/* Helpers shared by the renderers. */
const char *bench_errno_name(int err);      /* "EOPNOTSUPP" for -EOPNOTSUPP */
void bench_format_size(uint64_t bytes, char *out, size_t len);   /* "1 GiB" */
const char *bench_status_name(enum bench_status s);
/* @v printed with @fmt, or "-" when it is not a finite number. */
void bench_format_num(char *out, size_t len, double v, const char *fmt);
/* "n/a (method refused: EOPNOTSUPP)" for a record that did not run. */
void bench_status_text(const struct bench_record *r, char *out, size_t len);
/* A copy of @r with every measured number NaN when it did not run. */
struct bench_record bench_record_shown(const struct bench_record *r);
/* The notes every output carries: what the columns mean, what is theory. */
extern const char *const bench_notes[];

/* util.c: the clock (CLOCK_MONOTONIC seconds), CPU seconds of a timeval,
 * the median of the finite values among v[0..n) (sorts v; NaN if none), and
 * a command run with stdout and stderr to /dev/null, inside the network
 * namespace @ns_fd unless it is -1. Return: its exit status (126: setns
 * failed, 127: not found), or -errno. */
double bench_now(void);
double bench_tv_s(struct timeval tv);
double bench_median(double *v, size_t n);
int bench_run_quiet(const char *const argv[], int ns_fd);

/* ---- --fanout: one generated message to N receivers ---------------------- */

enum bench_fanout_method {
    BENCH_FANOUT_WRITE,     /* write(2) of the message to each receiver */
    BENCH_FANOUT_POOL,      /* generated once, zc_pool_write into a slice,
                             * sendfile to each */
    BENCH_FANOUT_POOL_MAP,  /* the same, generated through the slice's pointer */
    BENCH_FANOUT_POOL_REF,  /* pool, by reference from the first send
                             * (zc_pool_set_copy_sends 0) */
    BENCH_FANOUT_VMSPLICE,  /* vmsplice into a pipe, tee + splice to each */
    BENCH_FANOUT_METHOD_COUNT
};

#define BENCH_FANOUT_MAX 16
#define BENCH_RECEIVERS_MAX 1024
#define BENCH_FANOUT_DEFAULT_SIZE ((uint64_t)64 << 10)
#define BENCH_FANOUT_MAX_SIZE ((uint64_t)1 << 20)

const char *bench_fanout_method_name(enum bench_fanout_method m);
int bench_fanout_method_parse(const char *name, enum bench_fanout_method *out);

/* N connected sockets; the receiving ends belong to one child process that
 * drains them all, checks the bytes, and reports. */
struct bench_fanout_conn {
    unsigned n;
    int *out_fd;                /* n sending ends */
    pid_t receiver;
    int report_fd;
};

/* Message k is @size bytes of bench_fanout_byte(k): the receiver checks one
 * byte per page of every message, so a page changed in flight is caught. */
static inline uint8_t bench_fanout_byte(uint64_t k)
{
    return (uint8_t)(k * 131 + 7);
}

/* Return: 0, or -errno. */
int bench_fanout_open(enum bench_sink sink, unsigned n, uint64_t size,
                      struct bench_fanout_conn *c);
/* Close the sending ends, collect the receiver's report (@rep->error is
 * -EBADMSG when a byte arrived changed). Return: 0, or -errno. */
int bench_fanout_finish(struct bench_fanout_conn *c, struct bench_rcv_report *rep,
                        int timeout_s);

struct bench_fanout_job {
    enum bench_fanout_method method;
    enum bench_sink sink;
    unsigned receivers;
    uint64_t size;              /* bytes per message */
    uint64_t messages;          /* at most this many per run */
    double time_budget_s;
};

struct bench_fanout_sample {
    double seconds, user, sys;  /* sender */
    double rcv_user, rcv_sys;
    uint64_t messages;
    uint64_t delivered;         /* bytes, all receivers */
    uint64_t syscalls;          /* exact: counted by the sender or libzcopy */
    uint64_t copied;            /* message bytes the kernel copied on send */
    uint64_t fresh_pages;       /* pages replaced under sent bytes (pool) */
    uint64_t ctx_switches, page_faults;
};

/* Messages per run for @size x @receivers: about 256 MiB delivered. */
uint64_t bench_fanout_messages_for(uint64_t size, unsigned receivers);
int bench_fanout_run_once(const struct bench_fanout_job *job, struct bench_fanout_sample *s);

struct bench_fanout_record {
    enum bench_fanout_method method;
    enum bench_sink sink;
    unsigned receivers;
    enum bench_status status;
    int error;
    uint64_t size, messages;
    unsigned runs;
    double gbps;                /* delivered, all receivers */
    double cpu_s_gb, user_s_gb, sys_s_gb;   /* sender, per GB delivered */
    double rcv_s_gb;
    double cpu_vs_write;        /* median over rounds of cpu / write's cpu */
    double syscalls_per_msg, copied_per_msg, fresh_pages_per_msg;
    uint64_t ctx_switches, page_faults;     /* per run */
};

/* Copy-on-write, measured: what replacing a sent slice costs in a pool,
 * the kernel's own COW fault, a plain copy; and a file copied by reflink
 * against copy_file_range and read/write on XFS. NaN where not measured. */
struct bench_cow {
    uint64_t slice;                     /* bytes per operation */
    double pool_rewrite_us;             /* rewrite a sent slice + zc_pool_write it */
    double pool_rewrite_map_us;         /* rewrite + memset through the pointer */
    double private_fault_us;            /* MAP_PRIVATE write faults over it */
    double memcpy_us;                   /* memcpy of the slice */
    bool fs_done;
    char fs_skip[160];                  /* why the file system part did not run */
    uint64_t file_size;
    double ficlone_ms, cfr_ms, rw_ms;   /* median of rounds */
    double ficlone_mib, cfr_mib, rw_mib;/* MiB of blocks not shared (FIEMAP) */
};
void bench_cow_measure(struct bench_cow *c, uint64_t slice, const char *dir);
/* Unmount the XFS image if a signal cut the measurement short. */
void bench_cow_cleanup(void);

struct bench_fanout_report {
    struct bench_machine machine;
    char command[512];
    uint64_t size;
    unsigned runs;
    size_t n;
    struct bench_fanout_record *rec;
    struct bench_cow cow;
};

int bench_fanout_render_table(FILE *out, const struct bench_fanout_report *r);
int bench_fanout_render_csv(FILE *out, const struct bench_fanout_report *r);
int bench_fanout_render_json(FILE *out, const struct bench_fanout_report *r);
/* The two comparison rows ("buffer sharing", "copy-on-write"): the
 * articles' claim and what was measured, as text. */
void bench_fanout_comparison(const struct bench_fanout_report *r, int row, char *out,
                             size_t len);
extern const char *const bench_fanout_rows[2];
extern const char *const bench_fanout_claims[2];

/* `zcopy bench --fanout`: run, render. Return: the exit code. */
int bench_fanout_main(const struct bench_opts *o, const char *command);

#endif /* ZC_BENCH_H */
