/* bench/floor.c - the floor for bench/serve.py: the least an HTTP server can
 * do to serve a static file. A thread per connection, blocking sockets, one
 * write of the headers (MSG_MORE) and sendfile of the whole body in as few
 * calls as the kernel allows. No parsing beyond "GET /NAME", no limits, no
 * error pages: a measuring stick, not a server (it is not part of zcopy).
 *
 * usage: floor ROOT PORT    (listens on 127.0.0.1:PORT until killed) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int root_fd;

static void *serve(void *arg)
{
    int s = (int)(long)arg;
    char req[4096];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            ssize_t n = have < sizeof req ? recv(s, req + have, sizeof req - have, 0) : 0;
            if (n <= 0)
                goto out;
            have += (size_t)n;
        }
        char name[256];
        if (sscanf(req, "GET /%255[^ ?] ", name) != 1 || strstr(name, ".."))
            goto out;
        int fd = openat(root_fd, name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            if (fd >= 0)
                close(fd);
            goto out;
        }
        char head[128];
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n\r\n",
                          (long long)st.st_size);
        off_t off = 0;
        int ok = send(s, head, (size_t)hl, MSG_MORE | MSG_NOSIGNAL) == hl;
        while (ok && off < st.st_size)
            ok = sendfile(s, fd, &off, (size_t)(st.st_size - off)) > 0;
        close(fd);
        if (!ok)
            goto out;
        /* Keep any bytes of a next request that came with this one. */
        size_t used = (size_t)(end + 4 - req);
        memmove(req, req + used, have - used);
        have -= used;
    }
out:
    close(s);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor ROOT PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);   /* a client gone mid-body ends its thread only */
    root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[2])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (root_fd < 0 || ls < 0 ||
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1024) < 0) {
        perror("floor");
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (;;) {
        int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, &attr, serve, (void *)(long)s) != 0)
            close(s);
    }
}
