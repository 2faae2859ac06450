/* interrupt.c - SIGINT/SIGTERM for the clients: remember it, and unblock a
 * transfer stuck in the kernel by shutting its socket down (shutdown(2) is
 * async-signal-safe; the library retries EINTR, so the flag alone would not
 * end a blocking splice). Whatever reached the file stays there, valid. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "client/client.h"

volatile sig_atomic_t zc_interrupted;
volatile sig_atomic_t zc_deadline_passed;
static volatile sig_atomic_t watched_fd = -1;

static void on_interrupt(int sig)
{
    int fd = watched_fd;

    zc_interrupted = sig;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

void zc_interrupt_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;       /* no SA_RESTART: blocking calls return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* --max-time: the same way out as an interrupt, for SIGALRM. */
static void on_deadline(int sig)
{
    int fd = watched_fd;

    (void)sig;
    zc_deadline_passed = 1;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

int zc_deadline_arm(int ms)
{
    struct itimerval it = { .it_value = { .tv_sec = ms / 1000,
                                          .tv_usec = (suseconds_t)(ms % 1000) * 1000 } };
    struct sigaction sa;

    if (ms <= 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_deadline;        /* no SA_RESTART: blocking calls return */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
        return -errno;
    return 0;
}

void zc_interrupt_watch(int fd)
{
    watched_fd = fd;
}
