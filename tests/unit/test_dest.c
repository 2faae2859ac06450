/* test_dest.c - how a destination path is classified before cp or get
 * writes it: new, regular (replaced), directory, special (written into),
 * dangling or looping symlink (refused). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dest.h"
#include "tap.h"
#include "testutil.h"

static char base[PATH_MAX];

static const char *at(const char *name)
{
    static char path[2][PATH_MAX + 64];
    static int i;

    i ^= 1;
    snprintf(path[i], sizeof(path[i]), "%s/%s", base, name);
    return path[i];
}

static void test_kinds(void)
{
    struct zc_dest d;
    int fd;

    t_is_int(zc_dest_resolve(at("new"), &d), 0, "missing: resolved");
    t_ok(d.kind == ZC_DEST_NEW && !strcmp(d.name, "new") && !strcmp(d.dir, base),
         "missing: NEW in its directory");
    fd = open(at("file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    close(fd);
    t_is_int(zc_dest_resolve(at("file"), &d), 0, "regular: resolved");
    t_ok(d.kind == ZC_DEST_REGULAR && !strcmp(d.name, "file"), "regular: REGULAR");
    t_is_int(zc_dest_resolve(base, &d), 0, "directory: resolved");
    t_is_int(d.kind, ZC_DEST_DIR, "directory: DIR");
    mkfifo(at("fifo"), 0644);
    t_is_int(zc_dest_resolve(at("fifo"), &d), 0, "FIFO: resolved");
    t_is_int(d.kind, ZC_DEST_SPECIAL, "FIFO: SPECIAL");
    t_is_int(zc_dest_resolve(at("file/"), &d), -ENOTDIR, "file/: ENOTDIR");
    t_is_int(zc_dest_resolve("bare", &d), 0, "a bare name: resolved");
    t_ok(!strcmp(d.dir, ".") && !strcmp(d.name, "bare"), "a bare name: in '.'");
    t_is_int(zc_dest_resolve("/top", &d), 0, "/top: resolved");
    t_ok(!strcmp(d.dir, "/") && !strcmp(d.name, "top"), "/top: in '/'");
}

static void test_links(void)
{
    struct zc_dest d;
    char want[PATH_MAX];

    symlink("file", at("to-file"));
    t_is_int(zc_dest_resolve(at("to-file"), &d), 0, "link to a file: resolved");
    t_ok(realpath(at("file"), want) && d.kind == ZC_DEST_REGULAR &&
         !strcmp(d.path, want) && !strcmp(d.name, "file"),
         "link to a file: the file's real path and name");
    symlink("fifo", at("to-fifo"));
    t_is_int(zc_dest_resolve(at("to-fifo"), &d), 0, "link to a FIFO: resolved");
    t_ok(d.kind == ZC_DEST_SPECIAL && !strcmp(d.path, at("to-fifo")),
         "link to a FIFO: SPECIAL, opened through the link");
    symlink("nowhere", at("dangling"));
    t_is_int(zc_dest_resolve(at("dangling"), &d), 0, "dangling link: resolved");
    t_is_int(d.kind, ZC_DEST_DANGLING, "dangling link: DANGLING");
    symlink("loop", at("loop"));
    t_is_int(zc_dest_resolve(at("loop"), &d), -ELOOP, "a link loop: -ELOOP");
    unlink(at("to-file"));
    unlink(at("to-fifo"));
    unlink(at("dangling"));
    unlink(at("loop"));
}

static void test_join(void)
{
    char out[PATH_MAX];

    t_ok(zc_dest_join(out, "dir/", "x") == 0 && !strcmp(out, "dir/x"),
         "join: a trailing slash is not doubled");
    t_ok(zc_dest_join(out, "dir//", "x") == 0 && !strcmp(out, "dir/x"),
         "join: nor are two");
    t_ok(zc_dest_join(out, "/", "x") == 0 && !strcmp(out, "/x"), "join: the root");
    t_ok(zc_dest_join(out, "dir", "x") == 0 && !strcmp(out, "dir/x"), "join: plain");
}

int main(void)
{
    snprintf(base, sizeof(base), "%s", t_tmpdir());
    test_kinds();
    test_links();
    test_join();
    unlink(at("fifo"));
    return t_done();
}
