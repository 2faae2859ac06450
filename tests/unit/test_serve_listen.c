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
    int fa, fb;

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
    t_is_int(zc_listen_claim(&b), -EADDRINUSE, "claim refuses a port with a listener");
    t_is_int(zc_listen_parse("127.0.0.1:0", &b), 0, "parse port 0 again");
    t_is_int(zc_listen_claim(&b), 0, "claim port 0");
    t_ok(ntohs(((struct sockaddr_in *)&b.sa)->sin_port) != 0, "claim picked a port");
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return t_done();
}
