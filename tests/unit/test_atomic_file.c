/* test_atomic_file.c - a file built with zc_atomic_file appears under its
 * name whole or not at all, replaces (not rewrites) an existing file, and
 * leaves no temporary name behind on any path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "tap.h"
#include "testutil.h"

static int dir_fd;

/* Entries of the test directory whose name holds ".zcopy-". */
static int temp_entries(void)
{
    struct dirent *e;
    DIR *d = opendir(t_tmpdir());
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".zcopy-"))
            n++;
    closedir(d);
    return n;
}

static void put_file(const char *name, const char *text)
{
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        t_ok(0, "setup: write %s", name);
    if (fd >= 0)
        close(fd);
}

static int read_file(const char *name, char *buf, size_t cap)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return (int)n;
}

static void test_replace(void)
{
    struct zc_atomic_file a;
    struct stat before, after, link_st;
    char buf[64];

    put_file("target", "old bytes");
    t_ok(linkat(dir_fd, "target", dir_fd, "other-link", 0) == 0, "a hard link of target");
    fstatat(dir_fd, "target", &before, 0);
    t_is_int(zc_atomic_file_open(&a, dir_fd, "test", 0640), 0, "open");
    t_is_int(write(a.fd, "new", 3), 3, "write");
    read_file("target", buf, sizeof(buf));
    t_is_str(buf, "old bytes", "before publish the name still holds the old file");
    t_is_int(zc_atomic_file_publish(&a, "target", ZC_ATOMIC_SYNC), 0, "publish");
    t_ok(a.published && a.fd == -1, "published, fd closed");
    read_file("target", buf, sizeof(buf));
    t_is_str(buf, "new", "after publish the name holds the new file");
    fstatat(dir_fd, "target", &after, 0);
    t_ok(after.st_ino != before.st_ino, "a new inode replaced the old one");
    t_is_int(after.st_mode & 07777, 0640, "mode as asked (umask 022 takes nothing)");
    read_file("other-link", buf, sizeof(buf));
    fstatat(dir_fd, "other-link", &link_st, 0);
    t_ok(!strcmp(buf, "old bytes") && link_st.st_ino == before.st_ino,
         "another hard link keeps the old file");
    t_is_int(temp_entries(), 0, "no temp name left after publish");
    zc_atomic_file_abort(&a);
    read_file("target", buf, sizeof(buf));
    t_is_str(buf, "new", "abort after publish changes nothing");
    unlinkat(dir_fd, "other-link", 0);
}

static void test_abort(void)
{
    struct zc_atomic_file a;
    char buf[64];

    zc_atomic_file_init(&a);
    zc_atomic_file_abort(&a);
    t_ok(a.fd == -1, "abort on an idle file does nothing");
    put_file("kept", "keep me");
    t_is_int(zc_atomic_file_open(&a, dir_fd, "test", 0644), 0, "open");
    t_is_int(write(a.fd, "partial", 7), 7, "write");
    zc_atomic_file_abort(&a);
    read_file("kept", buf, sizeof(buf));
    t_is_str(buf, "keep me", "abort: the existing file is untouched");
    t_is_int(temp_entries(), 0, "abort: no temp name left");
    t_is_int(a.fd, -1, "abort closed the fd");
}

static void test_rename_fails(void)
{
    struct zc_atomic_file a;

    t_ok(mkdirat(dir_fd, "busy", 0755) == 0, "a directory in the way");
    put_file("busy/inside", "x");
    t_is_int(zc_atomic_file_open(&a, dir_fd, "test", 0644), 0, "open");
    t_is_int(write(a.fd, "new", 3), 3, "write");
    t_ok(zc_atomic_file_publish(&a, "busy", 0) < 0 && !a.published,
         "publish over a non-empty directory fails");
    t_ok(a.fd == -1 && !a.named, "the failed publish released the file");
    t_is_int(temp_entries(), 0, "the failed publish left no temp name");
    unlinkat(dir_fd, "busy/inside", 0);
    unlinkat(dir_fd, "busy", AT_REMOVEDIR);
}

static void test_no_dir(void)
{
    struct zc_atomic_file a;

    t_is_int(zc_atomic_file_open(&a, -1, "test", 0644), -EBADF, "a bad directory fd");
    t_is_int(a.fd, -1, "no fd after a failed open");
    t_is_int(zc_atomic_file_publish(&a, "x", 0), -EBADF, "publish without a file");
}

int main(void)
{
    int fds_before = t_count_fds();

    umask(022);
    dir_fd = open(t_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        t_skip_all("cannot open %s", t_tmpdir());
    test_replace();
    test_abort();
    test_rename_fails();
    test_no_dir();
    close(dir_fd);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
