/* cp.c - `zcopy cp SRC DST`: copy a regular file without reading it into
 * user space (copy_file_range; FICLONE with --reflink), holes kept. The copy
 * is built in an unnamed O_TMPFILE in DST's directory (a named temp file
 * where O_TMPFILE is missing) and renamed over DST only when complete, so an
 * interrupted cp never leaves a partial DST. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "commands.h"
#include "cp/copy_data.h"

struct cp_opts {
    const char *src, *dst;
    bool preserve, stats, quiet;
    enum zc_reflink reflink;
    enum zc_method method;
};

struct cp_target {
    char path[PATH_MAX];            /* final DST */
    char dir[PATH_MAX];             /* its directory */
    char tmp[PATH_MAX];             /* temp name, "" when none exists */
    int fd;
    bool unnamed;                   /* O_TMPFILE: no name until linked */
};

static void usage(FILE *out)
{
    fputs(
"usage: zcopy cp SRC DST [-p] [--reflink[=auto|always|never]] [--stats] [-q]\n"
"                        [--method NAME]\n"
"\n"
"Copy the regular file SRC to DST (or into DST when it is a directory) without\n"
"reading it through user space: copy_file_range (which shares extents where the\n"
"filesystem can), falling back as libzcopy's auto chain does (sendfile, splice,\n"
"read/write). Only data extents are copied (SEEK_DATA/SEEK_HOLE): sparse files\n"
"stay sparse. The mode is preserved. The copy is written to a temporary file in\n"
"DST's directory and renamed over DST when complete: an interrupted cp leaves\n"
"DST as it was.\n"
"\n"
"  -p, --preserve     also keep access and modification times (and owner, when\n"
"                     permitted)\n"
"      --reflink[=WHEN]  clone with FICLONE first: always (the default WHEN;\n"
"                     fail if the filesystem cannot), auto (fall back to\n"
"                     copying), never (default without --reflink)\n"
"  -q, --quiet        no progress bar\n"
"      --stats        print bytes, syscalls and the method(s) used to stderr\n"
"      --method NAME  libzcopy method (default auto: copy_file_range)\n"
"\n"
"A progress bar is drawn when stderr is a terminal.\n"
"\n"
"exit status: 0 copied; 1 usage error; 4 a file could not be read, written\n"
"or cloned (--reflink=always); 130 interrupted (DST untouched).\n", out);
}

static int parse_args(int argc, char **argv, struct cp_opts *o)
{
    enum { OPT_STATS = 256, OPT_METHOD, OPT_REFLINK };
    static const struct option longopts[] = {
        { "preserve", no_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' },
        { "stats", no_argument, NULL, OPT_STATS },
        { "method", required_argument, NULL, OPT_METHOD },
        { "reflink", optional_argument, NULL, OPT_REFLINK },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct cp_opts){ .method = ZC_AUTO, .reflink = ZC_REFLINK_NEVER };
    optind = 1;
    while ((c = getopt_long(argc, argv, "pqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': o->preserve = true; break;
        case 'q': o->quiet = true; break;
        case OPT_STATS: o->stats = true; break;
        case OPT_METHOD:
            if (zc_method_parse(optarg, &o->method) < 0) {
                fprintf(stderr, "zcopy cp: unknown method '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_REFLINK:
            if (!optarg || !strcmp(optarg, "always")) {
                o->reflink = ZC_REFLINK_ALWAYS;
            } else if (!strcmp(optarg, "auto")) {
                o->reflink = ZC_REFLINK_AUTO;
            } else if (!strcmp(optarg, "never")) {
                o->reflink = ZC_REFLINK_NEVER;
            } else {
                fprintf(stderr, "zcopy cp: --reflink takes auto, always or never\n");
                return -1;
            }
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return -1;
    }
    o->src = argv[optind];
    o->dst = argv[optind + 1];
    return 0;
}

static int fail(const char *path, int err)
{
    fprintf(stderr, "zcopy cp: %s: %s\n", path, strerror(err));
    return ZC_EXIT_LOCAL;
}

/* Work out the final path (into DST when it is a directory) and refuse to
 * copy a file onto itself or over a directory. */
static int resolve_target(const struct cp_opts *o, const struct stat *src_st,
                          struct cp_target *t)
{
    struct stat st;
    char tmp[PATH_MAX];
    int n;

    n = snprintf(t->path, sizeof(t->path), "%s", o->dst);
    if (stat(o->dst, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(tmp, sizeof(tmp), "%s", o->src);
        n = snprintf(t->path, sizeof(t->path), "%s/%s", o->dst, basename(tmp));
    }
    if (n < 0 || (size_t)n >= sizeof(t->path))
        return fail(o->dst, ENAMETOOLONG);
    if (stat(t->path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fail(t->path, EISDIR);
        if (st.st_dev == src_st->st_dev && st.st_ino == src_st->st_ino) {
            fprintf(stderr, "zcopy cp: '%s' and '%s' are the same file\n", o->src,
                    t->path);
            return ZC_EXIT_LOCAL;
        }
    }
    snprintf(tmp, sizeof(tmp), "%s", t->path);
    snprintf(t->dir, sizeof(t->dir), "%s", dirname(tmp));
    return 0;
}

/* A name in DST's directory that does not exist yet: ".NAME.zcopy-XXXXXX". */
static int temp_name(struct cp_target *t, unsigned attempt)
{
    char tmp[PATH_MAX];
    struct timespec ts;
    unsigned long r;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    r = ((unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16)) + (unsigned long)attempt * 7919u;
    snprintf(tmp, sizeof(tmp), "%s", t->path);
    n = snprintf(t->tmp, sizeof(t->tmp), "%s/.%s.zcopy-%06lx", t->dir, basename(tmp),
                 r & 0xffffff);
    return n < 0 || (size_t)n >= sizeof(t->tmp) ? -ENAMETOOLONG : 0;
}

static int open_temp(struct cp_target *t)
{
    t->tmp[0] = '\0';
    t->fd = open(t->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    zc_client_syscalls++;
    if (t->fd >= 0) {
        t->unnamed = true;
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
    /* No O_TMPFILE here: a named temp file, removed on every failure path. */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        if (temp_name(t, attempt) < 0)
            return -ENAMETOOLONG;
        zc_client_syscalls++;
        t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    t->tmp[0] = '\0';
    return -errno;
}

/* Give the unnamed file a temp name (it must still be open for that). */
static int link_temp(struct cp_target *t)
{
    char proc[64];

    if (!t->unnamed)
        return 0;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        if (temp_name(t, attempt) < 0)
            break;
        zc_client_syscalls++;
        if (linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        /* Without /proc, AT_EMPTY_PATH does it for a privileged caller. */
        if (errno == ENOENT && linkat(t->fd, "", AT_FDCWD, t->tmp, AT_EMPTY_PATH) == 0)
            return 0;
        if (errno != EEXIST) {
            t->tmp[0] = '\0';
            return -errno;
        }
    }
    t->tmp[0] = '\0';
    return -EEXIST;
}

static int set_metadata(const struct cp_opts *o, const struct stat *st, int fd)
{
    mode_t mode = st->st_mode & 07777;

    if (o->preserve) {
        const struct timespec times[2] = { st->st_atim, st->st_mtim };

        zc_client_syscalls++;
        if (fchown(fd, st->st_uid, st->st_gid) < 0) {
            if (errno != EPERM)
                return -errno;
            mode &= ~(mode_t)(S_ISUID | S_ISGID);   /* as cp(1): not for another owner */
        }
        zc_client_syscalls++;
        if (futimens(fd, times) < 0)
            return -errno;
    }
    zc_client_syscalls++;
    return fchmod(fd, mode) < 0 ? -errno : 0;
}

static int copy_file(const struct cp_opts *o, zc_ctx *ctx, int src,
                     const struct stat *st, struct cp_target *t)
{
    struct zc_progress pr;
    struct zc_copy c = {
        .ctx = ctx, .method = o->method, .reflink = o->reflink, .src = src,
        .size = (uint64_t)st->st_size, .progress = &pr,
    };
    int ret;

    ret = open_temp(t);
    if (ret < 0)
        return fail(t->dir, -ret);
    c.dst = t->fd;
    zc_progress_start(&pr, zc_progress_enabled(o->quiet), c.size, 0);
    ret = zc_copy_data(&c);
    if (ret == 0)
        zc_progress_update(&pr, c.size);    /* a trailing hole counts as copied */
    zc_progress_finish(&pr);
    if (ret == 0)
        ret = set_metadata(o, st, t->fd);
    if (ret == 0)
        ret = link_temp(t);
    if (ret == 0) {
        zc_client_syscalls++;
        if (close(t->fd) < 0)
            ret = -errno;
        t->fd = -1;
    }
    if (ret == 0) {
        zc_client_syscalls++;
        if (rename(t->tmp, t->path) < 0)
            ret = -errno;
        else
            t->tmp[0] = '\0';
    }

    if (o->stats) {
        zc_report_stats(stderr, "cp", ctx);
        fprintf(stderr, "zcopy cp: stats: %s, %" PRIu64 " data bytes in %u extents "
                "of %" PRIu64 " bytes\n",
                c.cloned ? "cloned with FICLONE"
                         : c.clone_error ? "FICLONE refused, copied" : "copied",
                c.data_bytes, c.extents, c.size);
    }
    if (ret == -EINTR) {
        fprintf(stderr, "zcopy cp: interrupted; %s left as it was\n", t->path);
        return ZC_EXIT_INTERRUPTED;
    }
    if (ret == -ESTALE) {
        fprintf(stderr, "zcopy cp: %s shrank during the copy\n", o->src);
        return ZC_EXIT_LOCAL;
    }
    if (ret < 0 && c.clone_error == ret && o->reflink == ZC_REFLINK_ALWAYS) {
        fprintf(stderr, "zcopy cp: cannot clone %s (--reflink=always): %s\n", o->src,
                strerror(-ret));
        return ZC_EXIT_LOCAL;
    }
    return ret < 0 ? fail(t->path, -ret) : ZC_EXIT_OK;
}

int cmd_cp(int argc, char **argv)
{
    struct cp_opts o;
    struct cp_target t = { .fd = -1 };
    struct stat st;
    zc_ctx *ctx;
    int src, ret;

    ret = parse_args(argc, argv, &o);
    if (ret)
        return ret > 0 ? ZC_EXIT_OK : ZC_EXIT_USAGE;
    /* O_NONBLOCK: opening a FIFO must not hang before it is refused below. */
    src = open(o.src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (src < 0 || fstat(src, &st) < 0) {
        ret = fail(o.src, errno);
        if (src >= 0)
            close(src);
        return ret;
    }
    zc_client_syscalls += 2;
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "zcopy cp: %s: not a regular file\n", o.src);
        close(src);
        return ZC_EXIT_LOCAL;
    }
    ret = resolve_target(&o, &st, &t);
    if (ret) {
        close(src);
        return ret;
    }
    ctx = zc_ctx_new();
    if (!ctx) {
        ret = fail("zc_ctx_new", errno);
        close(src);
        return ret;
    }
    zc_interrupt_install();
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    ret = copy_file(&o, ctx, src, &st, &t);
    if (t.fd >= 0)
        close(t.fd);
    if (t.tmp[0])
        unlink(t.tmp);
    zc_ctx_free(ctx);
    close(src);
    return ret;
}
