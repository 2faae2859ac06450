/* deny_syscalls.c - run a program with some syscalls refused, as a seccomp
 * policy refuses them (Docker's default profile answers io_uring_setup with
 * EPERM): the tests use it to see that the server falls back instead of
 * failing.
 *
 *   deny_syscalls NAME[,NAME...] PROGRAM [ARG...]
 *
 * Each named syscall fails with EPERM in PROGRAM and everything it starts;
 * all others run. Exit 2 on a usage error, 77 when seccomp is unavailable. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "deny_syscalls: add this architecture's AUDIT_ARCH_*"
#endif

#define MAX_DENIED 16

static const struct {
    const char *name;
    long nr;
} known[] = {
    { "io_uring_setup", SYS_io_uring_setup },
    { "io_uring_enter", SYS_io_uring_enter },
    { "io_uring_register", SYS_io_uring_register },
    { "sendfile", SYS_sendfile },
    { "splice", SYS_splice },
    { "tee", SYS_tee },
    { "vmsplice", SYS_vmsplice },
    { "copy_file_range", SYS_copy_file_range },
};

static long syscall_nr(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == len && !strncmp(known[i].name, name, len))
            return known[i].nr;
    return -1;
}

int main(int argc, char **argv)
{
    struct sock_filter prog[4 + 2 * MAX_DENIED + 1];
    struct sock_fprog fprog = { .filter = prog };
    unsigned n = 0, ndenied = 0;
    const char *list;

    if (argc < 3) {
        fprintf(stderr, "usage: deny_syscalls NAME[,NAME...] PROGRAM [ARG...]\n");
        return 2;
    }
    /* Another architecture's calling convention numbers syscalls
     * differently: kill rather than let it through unfiltered. */
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
    for (list = argv[1]; *list;) {
        size_t len = strcspn(list, ",");
        long nr = syscall_nr(list, len);

        if (nr < 0 || ndenied == MAX_DENIED) {
            fprintf(stderr, "deny_syscalls: unknown or too many syscalls: %.*s\n",
                    (int)len, list);
            return 2;
        }
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                 (unsigned)nr, 0, 1);
        prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
                                                 SECCOMP_RET_ERRNO | EPERM);
        ndenied++;
        list += len;
        if (*list == ',')
            list++;
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

    fprog.len = (unsigned short)n;
    /* Without privileges a filter may only be installed under no_new_privs,
     * which also keeps it in force across the exec. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
        fprintf(stderr, "deny_syscalls: seccomp: %s\n", strerror(errno));
        return 77;
    }
    execvp(argv[2], argv + 2);
    fprintf(stderr, "deny_syscalls: %s: %s\n", argv[2], strerror(errno));
    return 127;
}
