/* cp.c - `zcopy cp SRC DST`: copy a regular file without reading it into
 * user space (copy_file_range; FICLONE with --reflink), holes kept. A new or
 * regular DST is built with zc_atomic_file (O_TMPFILE in DST's directory,
 * renamed over DST only when complete), so an interrupted cp never leaves a
 * partial DST; a device or FIFO at DST is written into, never replaced. */
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
#include <unistd.h>

#include "client/client.h"
#include "commands.h"
#include "common/atomic_file.h"
#include "common/dest.h"
#include "cp/copy_data.h"

struct cp_opts {
    const char *src, *dst;
    bool preserve, stats, quiet;
    enum zc_reflink reflink;
    enum zc_method method;
};

struct cp_target {
    struct zc_dest dest;            /* DST (into it when a directory) */
    int dir_fd;                     /* dest.dir, for a new or replaced file */
    struct zc_atomic_file file;     /* the copy, until published */
    int special_fd;                 /* a device, FIFO or socket written into */
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
"stay sparse.\n"
"\n"
"What happens to DST: a regular file is replaced, not written into: the copy\n"
"is built in a temporary file in DST's directory and renamed over DST when\n"
"complete, so an interrupted or failed cp leaves DST as it was (other hard\n"
"links of the old DST keep the old bytes). A device, FIFO or socket is written\n"
"into as cp(1) does (a socket cannot be opened: exit 4) and keeps its mode. A\n"
"symlink is followed: the file it points to is replaced (a dangling link or a\n"
"loop is an error, exit 4). A directory gets the copy inside it.\n"
"\n"
"The new file gets SRC's mode less the umask (all of it with -p); setuid and\n"
"setgid are dropped unless the copy has SRC's owner and group.\n"
"\n"
"  -p, --preserve     keep the mode regardless of the umask, access and\n"
"                     modification times, and owner and group when permitted\n"
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

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Work out what DST names (into DST when it is a directory, through a
 * symlink as cp(1) goes) and refuse a copy onto itself, over a directory,
 * or through a link that leads nowhere. */
static int resolve_target(const struct cp_opts *o, const struct stat *src_st,
                          struct cp_target *t)
{
    char tmp[PATH_MAX], into[PATH_MAX];
    int ret;

    ret = zc_dest_resolve(o->dst, &t->dest);
    if (ret == 0 && t->dest.kind == ZC_DEST_DIR) {
        snprintf(tmp, sizeof(tmp), "%s", o->src);
        ret = zc_dest_join(into, t->dest.path, basename(tmp));
        if (ret == 0)
            ret = zc_dest_resolve(into, &t->dest);
    }
    if (ret < 0)
        return fail(o->dst, -ret);
    switch (t->dest.kind) {
    case ZC_DEST_DIR:
        return fail(t->dest.path, EISDIR);
    case ZC_DEST_DANGLING:
        fprintf(stderr, "zcopy cp: not writing through dangling symlink '%s'\n",
                t->dest.path);
        return ZC_EXIT_LOCAL;
    case ZC_DEST_REGULAR:
    case ZC_DEST_SPECIAL:
        if (same_file(&t->dest.st, src_st)) {
            fprintf(stderr, "zcopy cp: '%s' and '%s' are the same file\n", o->src,
                    t->dest.path);
            return ZC_EXIT_LOCAL;
        }
        break;
    case ZC_DEST_NEW:
        break;
    }
    return 0;
}

/* Open what the bytes are written to: the device, FIFO or socket itself
 * (as cp(1) does: opening a FIFO waits for a reader, a socket cannot be
 * opened), else a new file in DST's directory, published by rename. */
static int open_target(struct cp_target *t)
{
    int ret;

    zc_client_syscalls++;
    if (t->dest.kind == ZC_DEST_SPECIAL) {
        t->special_fd = open(t->dest.path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
        return t->special_fd < 0 ? fail(t->dest.path, errno) : 0;
    }
    t->dir_fd = open(t->dest.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->dir_fd < 0)
        return fail(t->dest.dir, errno);
    zc_client_syscalls++;
    ret = zc_atomic_file_open(&t->file, t->dir_fd, "cp", 0600);
    return ret < 0 ? fail(t->dest.dir, -ret) : 0;
}

/* The new file's mode and, with -p, times and owner. Without -p the mode is
 * SRC's less the umask, as cp(1) makes a new file; setuid and setgid are
 * dropped whenever the copy's owner or group is not SRC's, with or without
 * -p, so a copy never grants another user's privileges. */
static int set_metadata(const struct cp_opts *o, const struct stat *st, int fd,
                        mode_t umask_bits)
{
    mode_t mode = st->st_mode & 07777;
    struct stat now;

    if (o->preserve) {
        const struct timespec times[2] = { st->st_atim, st->st_mtim };

        zc_client_syscalls++;
        if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
            return -errno;
        zc_client_syscalls++;
        if (futimens(fd, times) < 0)
            return -errno;
    } else {
        mode &= ~umask_bits;
    }
    zc_client_syscalls++;
    if (fstat(fd, &now) < 0)
        return -errno;
    if (now.st_uid != st->st_uid || now.st_gid != st->st_gid)
        mode &= ~(mode_t)(S_ISUID | S_ISGID);
    zc_client_syscalls++;
    return fchmod(fd, mode) < 0 ? -errno : 0;
}

static int copy_file(const struct cp_opts *o, zc_ctx *ctx, int src,
                     const struct stat *st, struct cp_target *t, mode_t umask_bits)
{
    bool special = t->dest.kind == ZC_DEST_SPECIAL;
    struct zc_progress pr;
    struct zc_copy c = {
        .ctx = ctx, .method = o->method, .reflink = o->reflink, .src = src,
        .size = (uint64_t)st->st_size, .progress = &pr, .stream = special,
    };
    int ret;

    ret = open_target(t);
    if (ret)
        return zc_interrupted ? ZC_EXIT_INTERRUPTED : ret;
    c.dst = special ? t->special_fd : t->file.fd;
    zc_progress_start(&pr, zc_progress_enabled(o->quiet), c.size, 0);
    ret = zc_copy_data(&c);
    if (ret == 0)
        zc_progress_update(&pr, c.size);    /* a trailing hole counts as copied */
    zc_progress_finish(&pr);
    if (special) {
        /* A device or FIFO keeps its own mode and owner, as with cp(1). */
        zc_client_syscalls++;
        if (close(t->special_fd) < 0 && ret == 0)
            ret = -errno;
        t->special_fd = -1;
    } else {
        if (ret == 0)
            ret = set_metadata(o, st, t->file.fd, umask_bits);
        if (ret == 0) {
            zc_client_syscalls += 3;
            ret = zc_atomic_file_publish(&t->file, t->dest.name, 0);
        }
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
        fprintf(stderr, special ? "zcopy cp: interrupted; %s got part of the bytes\n"
                                : "zcopy cp: interrupted; %s left as it was\n",
                t->dest.path);
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
    return ret < 0 ? fail(t->dest.path, -ret) : ZC_EXIT_OK;
}

int cmd_cp(int argc, char **argv)
{
    struct cp_opts o;
    struct cp_target t = { .dir_fd = -1, .special_fd = -1 };
    struct stat st;
    mode_t umask_bits;
    zc_ctx *ctx;
    int src, ret;

    ret = parse_args(argc, argv, &o);
    if (ret)
        return ret > 0 ? ZC_EXIT_OK : ZC_EXIT_USAGE;
    umask_bits = umask(0);
    umask(umask_bits);
    zc_atomic_file_init(&t.file);
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
    ret = copy_file(&o, ctx, src, &st, &t, umask_bits);
    zc_atomic_file_abort(&t.file);
    if (t.special_fd >= 0)
        close(t.special_fd);
    if (t.dir_fd >= 0)
        close(t.dir_fd);
    zc_ctx_free(ctx);
    close(src);
    return ret;
}
