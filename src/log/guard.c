/* guard.c - SIGBUS guard for mapped files (see guard.h). The handler is
 * installed once; it jumps back only when this thread armed a guard, and
 * otherwise hands the signal to whoever had it before (the default action
 * kills the process, as it would have without us). SA_NODEFER keeps SIGBUS
 * unblocked after the jump, so no sigprocmask call is needed per guard. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "log/guard.h"

static __thread sigjmp_buf *armed;
static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    sigjmp_buf *jb = armed;

    if (jb) {
        armed = NULL;
        siglongjmp(*jb, 1);
    }
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, si, uc);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        /* Returning re-runs the faulting access under the default action. */
        signal(SIGBUS, SIG_DFL);
    }
}

static void install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous);
}

int zc__guard_run(int (*fn)(void *arg), void *arg)
{
    sigjmp_buf jb, *outer;
    int ret;

    pthread_once(&install_once, install);
    outer = armed;
    if (sigsetjmp(jb, 0)) {
        armed = outer;
        return -EIO;
    }
    armed = &jb;
    ret = fn(arg);
    armed = outer;
    return ret;
}

struct copy_args {
    void *dst;
    const void *src;
    size_t len;
};

static int do_copy(void *arg)
{
    struct copy_args *c = arg;

    memcpy(c->dst, c->src, c->len);
    return 0;
}

int zc__guard_copy(void *dst, const void *src, size_t len)
{
    struct copy_args c = { dst, src, len };

    return zc__guard_run(do_copy, &c);
}
