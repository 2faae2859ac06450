/* test_serve_listen.c - --listen parsing and formatting, port 0 shared by
 * SO_REUSEPORT listeners (src/serve/listen.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "net/listen.h"
#include "tap.h"

static const struct {
    const char *spec;
    int want;
    const char *url;            /* after parsing, for want == 0 */
} cases[] = {
    { "127.0.0.1:8080", 0, "http://127.0.0.1:8080/" },
    { "0.0.0.0:80", 0, "http://0.0.0.0:80/" },
    { ":8080", 0, "http://0.0.0.0:8080/" },
    { "[::1]:0", 0, "http://[::1]:0/" },
    { "[::]:443", 0, "http://[::]:443/" },
    { "127.0.0.1", -EINVAL, NULL },
    { "127.0.0.1:", -EINVAL, NULL },
    { "127.0.0.1:65536", -EINVAL, NULL },
    { "127.0.0.1:-1", -EINVAL, NULL },
    { "127.0.0.1:80x", -EINVAL, NULL },
    { "[::1]8080", -EINVAL, NULL },
    { "[::1", -EINVAL, NULL },
};

int main(void)
{
    struct zc_listen_addr a, b;
    char url[128];
    int fa, fb, fc, fd2, held;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ret = zc_listen_parse(cases[i].spec, &a);

        t_is_int(ret, cases[i].want, "parse \"%s\"", cases[i].spec);
        if (ret == 0 && cases[i].url) {
            zc_listen_format(&a, "http", url, sizeof(url));
            t_is_str(url, cases[i].url, "format \"%s\"", cases[i].spec);
        }
    }

    /* Port 0: the first listener learns the port, the second joins it. */
    t_is_int(zc_listen_parse("127.0.0.1:0", &a), 0, "parse port 0");
    fa = zc_listen_open(&a, 16);
    t_ok(fa >= 0, "open port 0");
    t_ok(ntohs(((struct sockaddr_in *)&a.sa)->sin_port) != 0, "real port learned");
    b = a;
    fb = zc_listen_open(&b, 16);
    t_ok(fb >= 0, "second SO_REUSEPORT listener on the same port");
    t_is_int(ntohs(((struct sockaddr_in *)&b.sa)->sin_port),
             ntohs(((struct sockaddr_in *)&a.sa)->sin_port), "same port");
    b = a;
    t_is_int(zc_listen_claim(&b, &held), -EADDRINUSE, "claim refuses a port with a listener");
    t_is_int(held, -1, "and holds nothing");
    t_is_int(zc_listen_parse("127.0.0.1:0", &b), 0, "parse port 0 again");
    t_is_int(zc_listen_claim(&b, &held), 0, "claim port 0");
    t_ok(ntohs(((struct sockaddr_in *)&b.sa)->sin_port) != 0, "claim picked a port");
    t_ok(held >= 0, "and holds it");
    /* Held: nobody else is given the port before our listeners take it. */
    {
        int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), hits = 0;

        t_ok(other >= 0 && bind(other, (struct sockaddr *)&b.sa, b.len) < 0 && errno == EADDRINUSE,
             "a plain bind to the claimed port: EADDRINUSE while held");
        if (other >= 0)
            close(other);
        for (int i = 0; i < 2000; i++) {
            struct sockaddr_in any = { .sin_family = AF_INET,
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            socklen_t alen = sizeof(any);
            int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
            if (bind(fd, (struct sockaddr *)&any, sizeof(any)) == 0 &&
                getsockname(fd, (struct sockaddr *)&any, &alen) == 0)
                hits += any.sin_port == ((struct sockaddr_in *)&b.sa)->sin_port;
            close(fd);
        }
        t_is_int(hits, 0, "2000 port-0 binds with SO_REUSEPORT elsewhere: none given it");
    }
    fc = zc_listen_open(&b, 16);
    fd2 = zc_listen_open(&b, 16);
    t_ok(fc >= 0 && fd2 >= 0, "the workers' listeners join the held port");
    close(held);
    if (fc >= 0)
        close(fc);
    if (fd2 >= 0)
        close(fd2);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return t_done();
}
