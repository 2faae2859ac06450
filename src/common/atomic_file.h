/* atomic_file.h - a new file built in a directory and published under its
 * final name only once complete. The bytes go to an unnamed O_TMPFILE (a
 * hidden ".zcopy-TAG.PID.SEQ" file where the filesystem has no O_TMPFILE),
 * which is linked under a temporary name and renamed over the final one:
 * readers of the name see the old file or the whole new one, never a prefix,
 * and a failure leaves nothing behind (a named temp file only survives a
 * SIGKILL). Used by zcopy cp, zcopy get and zcopy serve's PUT. */
#ifndef ZC_ATOMIC_FILE_H
#define ZC_ATOMIC_FILE_H

#include <stdbool.h>
#include <sys/types.h>

#define ZC_ATOMIC_SYNC 1u           /* fsync the file, then the directory */

struct zc_atomic_file {
    int dir_fd;                     /* borrowed: where the file is published */
    int fd;                         /* the new file, open for writing; -1: none */
    bool named;                     /* tmp_name exists in dir_fd */
    bool published;                 /* the rename happened */
    const char *tag;                /* in the temp name: whose file it is */
    char tmp_name[80];
};

/* zc_atomic_file_init - an idle file (abort on it does nothing). */
void zc_atomic_file_init(struct zc_atomic_file *a);

/* zc_atomic_file_open - create the new file in @dir_fd (borrowed: it must
 * stay open until publish or abort) with @mode (the umask applies, as for
 * open(2)); @tag (a short static string) goes into a temp name.
 * Return: 0 with a->fd open for writing, or -errno. */
int zc_atomic_file_open(struct zc_atomic_file *a, int dir_fd, const char *tag,
                        mode_t mode);

/* zc_atomic_file_publish - put the file under @name in its directory,
 * replacing what is there (a new inode: other hard links of the old file
 * keep the old bytes), and close a->fd. With ZC_ATOMIC_SYNC the file is
 * fsync'ed first and the directory after the rename.
 * Return: 0; or -errno with nothing left behind when a->published is false,
 * or (a->published true) the rename happened but the directory fsync failed. */
int zc_atomic_file_publish(struct zc_atomic_file *a, const char *name, unsigned flags);

/* zc_atomic_file_abort - drop an unpublished file (close it, remove its temp
 * name). Safe on an idle or already published file. */
void zc_atomic_file_abort(struct zc_atomic_file *a);

#endif /* ZC_ATOMIC_FILE_H */
