/* test_http_parse.c - the request-head parser, one table row per behaviour;
 * every input ends at a PROT_NONE guard page so an over-read crashes. */
#include <string.h>

#include "serve/http_parse.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1  /* keeps embedded NULs */
#define ALL (-1000)                      /* want: the whole input consumed */

static const struct parse_case {
    const char *name;
    const char *in;
    size_t in_len;
    int want;                            /* bytes consumed, ALL, PARTIAL or -status */
    const char *target;                  /* checked when non-NULL and want > 0 */
    int minor;                           /* checked when want > 0 */
    int keep_alive;                      /* checked when want > 0 */
} cases[] = {
    /* request line */
    { "simple GET", IN("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), 28, "/a", 1, 1 },
    { "HTTP/1.0 without Host", IN("GET / HTTP/1.0\r\n\r\n"), 18, "/", 0, 0 },
    { "HEAD", IN("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/x", 1, 1 },
    { "trailing bytes not consumed", IN("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET"), 27, "/", 1, 1 },
    { "leading empty lines skipped", IN("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/", 1, 1 },
    { "leading bare LF", IN("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "query kept raw", IN("GET /a%20b?x=1&y HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/a%20b?x=1&y", 1, 1 },
    { "obs-text in target", IN("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/\xc3\xa9", 1, 1 },
    { "HTTP/1.2 is 1.1", IN("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), ALL, "/", 1, 1 },
    { "HTTP/1.9 is 1.1", IN("GET / HTTP/1.9\r\nHost: x\r\n\r\n"), ALL, "/", 1, 1 },
    { "HTTP/2.0", IN("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -505, NULL, 0, 0 },
    { "HTTP/0.9 shape", IN("GET / HTTP/0.9\r\n\r\n"), -505, NULL, 0, 0 },
    { "HTTP/3.0", IN("GET / HTTP/3.0\r\n\r\n"), -505, NULL, 0, 0 },
    { "h2 preface", IN("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), -505, NULL, 0, 0 },
    { "version 1.10", IN("GET / HTTP/1.10\r\n\r\n"), -400, NULL, 0, 0 },
    { "version 11", IN("GET / HTTP/11\r\n\r\n"), -400, NULL, 0, 0 },
    { "version lower case", IN("GET / http/1.1\r\n\r\n"), -400, NULL, 0, 0 },
    { "version missing", IN("GET /\r\n\r\n"), -400, NULL, 0, 0 },
    { "version x", IN("GET / HTTP/1.x\r\n\r\n"), -400, NULL, 0, 0 },
    { "two spaces after method", IN("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "two spaces after target", IN("GET /  HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "trailing space after version", IN("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "tab as separator", IN("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "NUL in method", IN("G\0T / HTTP/1.1\r\n\r\n"), -400, NULL, 0, 0 },
    { "NUL in target", IN("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "DEL in target", IN("GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "empty method", IN(" / HTTP/1.1\r\n\r\n"), -400, NULL, 0, 0 },
    { "bare LF after version", IN("GET / HTTP/1.1\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "lone CR after version", IN("GET / HTTP/1.1\rHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "unknown method is not an error", IN("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/pot", 1, 1 },
    { "method is case-sensitive", IN("get / HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/", 1, 1 },
    { "method with tchar punct", IN("M-S.E_A~RCH / HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "/", 1, 1 },
    { "method with slash", IN("GE/T / HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    /* request-target forms */
    { "asterisk with OPTIONS", IN("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "*", 1, 1 },
    { "asterisk with GET", IN("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "absolute-form", IN("GET http://example.com:80/a?b HTTP/1.1\r\nHost: x\r\n\r\n"), ALL, "http://example.com:80/a?b", 1, 1 },
    { "absolute-form HTTPS upper", IN("GET HTTPS://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), ALL, "HTTPS://h/", 1, 1 },
    { "absolute-form no path", IN("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"), ALL, "http://h", 1, 1 },
    { "absolute-form empty host", IN("GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n"), -400, NULL, 0, 0 },
    { "absolute-form userinfo", IN("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400, NULL, 0, 0 },
    { "absolute-form other scheme", IN("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400, NULL, 0, 0 },
    { "relative target", IN("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), -400, NULL, 0, 0 },
    { "authority-form with CONNECT", IN("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), ALL, "h:443", 1, 1 },
    { "authority-form with GET", IN("GET h:443 HTTP/1.1\r\nHost: h\r\n\r\n"), -400, NULL, 0, 0 },
    /* field lines */
    { "OWS stripped", IN("GET / HTTP/1.1\r\nHost: \t x \t \r\n\r\n"), ALL, "/", 1, 1 },
    { "no OWS", IN("GET / HTTP/1.1\r\nHost:x\r\n\r\n"), ALL, "/", 1, 1 },
    { "empty value", IN("GET / HTTP/1.1\r\nHost: x\r\nX-E:\r\n\r\n"), ALL, "/", 1, 1 },
    { "space before colon", IN("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), -400, NULL, 0, 0 },
    { "tab before colon", IN("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "no colon", IN("GET / HTTP/1.1\r\nHost: x\r\nFoo\r\n\r\n"), -400, NULL, 0, 0 },
    { "empty name", IN("GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"), -400, NULL, 0, 0 },
    { "obs-fold", IN("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), -400, NULL, 0, 0 },
    { "obs-fold with tab", IN("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"), -400, NULL, 0, 0 },
    { "whitespace before first field", IN("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "bare LF after field", IN("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"), -400, NULL, 0, 0 },
    { "bare LF final line", IN("GET / HTTP/1.1\r\nHost: x\r\n\n"), -400, NULL, 0, 0 },
    { "lone CR in value", IN("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n"), -400, NULL, 0, 0 },
    { "lone CR final line", IN("GET / HTTP/1.1\r\nHost: x\r\n\rX"), -400, NULL, 0, 0 },
    { "NUL in value", IN("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"), -400, NULL, 0, 0 },
    { "NUL in name", IN("GET / HTTP/1.1\r\nHost: x\r\nX\0Y: a\r\n\r\n"), -400, NULL, 0, 0 },
    { "control char in value", IN("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01z\r\n\r\n"), -400, NULL, 0, 0 },
    { "ESC in value", IN("GET / HTTP/1.1\r\nHost: x\r\nX: \x1b[0m\r\n\r\n"), -400, NULL, 0, 0 },
    { "DEL in value", IN("GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n"), -400, NULL, 0, 0 },
    { "HTAB inside value ok", IN("GET / HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n"), ALL, "/", 1, 1 },
    { "obs-text in value ok", IN("GET / HTTP/1.1\r\nHost: x\r\nX: \xff\x80\r\n\r\n"), ALL, "/", 1, 1 },
    { "bad char in name", IN("GET / HTTP/1.1\r\nHost: x\r\nX(Y): a\r\n\r\n"), -400, NULL, 0, 0 },
    { "unknown fields ignored", IN("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\n\r\n"), ALL, "/", 1, 1 },
    /* Host */
    { "missing Host in 1.1", IN("GET / HTTP/1.1\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate Host", IN("GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate Host differing case", IN("GET / HTTP/1.1\r\nHost: x\r\nhOST: y\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate Host in 1.0", IN("GET / HTTP/1.0\r\nHost: x\r\nHost: x\r\n\r\n"), -400, NULL, 0, 0 },
    { "empty Host allowed", IN("GET / HTTP/1.1\r\nHost:\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host with port", IN("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host IPv4", IN("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host IPv6", IN("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host IPv6 no port", IN("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host IPv6 v4-mapped", IN("GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.4]\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host IPvFuture", IN("GET / HTTP/1.1\r\nHost: [v1.x:y]\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host pct-encoded", IN("GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n"), ALL, "/", 1, 1 },
    { "Host bad pct", IN("GET / HTTP/1.1\r\nHost: a%4\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host bad IPv6", IN("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host unclosed bracket", IN("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host junk after bracket", IN("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host with space", IN("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host with slash", IN("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host userinfo", IN("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host port letters", IN("GET / HTTP/1.1\r\nHost: h:8o\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host port too big", IN("GET / HTTP/1.1\r\nHost: h:65536\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host port six digits", IN("GET / HTTP/1.1\r\nHost: h:000080\r\n\r\n"), -400, NULL, 0, 0 },
    { "Host two colons", IN("GET / HTTP/1.1\r\nHost: h:1:2\r\n\r\n"), -400, NULL, 0, 0 },
    /* Content-Length / Transfer-Encoding */
    { "Content-Length", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n"), ALL, "/", 1, 1 },
    { "Content-Length empty", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length sign", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length negative", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length list", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length hex", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length overflow", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length duplicate equal", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), -400, NULL, 0, 0 },
    { "Content-Length duplicate differing", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n"), -400, NULL, 0, 0 },
    { "CL and TE", IN("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), -400, NULL, 0, 0 },
    { "TE and CL", IN("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"), -400, NULL, 0, 0 },
    { "TE alone is reported", IN("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), ALL, "/", 1, 1 },
    { "TE in 1.0", IN("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate TE", IN("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), -400, NULL, 0, 0 },
    { "TE and CL in 1.0", IN("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"), -400, NULL, 0, 0 },
    /* RFC 9112 6.3 item 4: chunked must be the final coding, for every method */
#define TE(m, v) IN(m " / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " v "\r\n\r\n")
    { "TE gzip (POST)", TE("POST", "gzip"), -400, NULL, 0, 0 },
    { "TE gzip (GET)", TE("GET", "gzip"), -400, NULL, 0, 0 },
    { "TE gzip (PUT)", TE("PUT", "gzip"), -400, NULL, 0, 0 },
    { "TE gzip (unknown method)", TE("BREW", "gzip"), -400, NULL, 0, 0 },
    { "TE xchunked", TE("POST", "xchunked"), -400, NULL, 0, 0 },
    { "TE chunkedx", TE("POST", "chunkedx"), -400, NULL, 0, 0 },
    { "TE identity", TE("POST", "identity"), -400, NULL, 0, 0 },
    { "TE chunked, gzip", TE("POST", "chunked, gzip"), -400, NULL, 0, 0 },
    { "TE chunked twice", TE("POST", "chunked, chunked"), -400, NULL, 0, 0 },
    { "TE chunked with parameter", TE("POST", "chunked;q=1"), -400, NULL, 0, 0 },
    { "TE empty", TE("POST", ""), -400, NULL, 0, 0 },
    { "TE only commas", TE("POST", " , ,"), -400, NULL, 0, 0 },
    { "TE not a token", TE("POST", "chun\"ked"), -400, NULL, 0, 0 },
    { "TE list without comma", TE("POST", "gzip chunked"), -400, NULL, 0, 0 },
    { "TE bad parameter", TE("POST", "gzip;=1, chunked"), -400, NULL, 0, 0 },
    { "TE unterminated quote", TE("POST", "gzip;a=\"1, chunked"), -400, NULL, 0, 0 },
    { "TE CHUNKED upper", TE("POST", "CHUNKED"), ALL, "/", 1, 1 },
    { "TE chunked, empty elements", TE("POST", ", chunked ,"), ALL, "/", 1, 1 },
    { "TE gzip, chunked: not implemented", TE("POST", "gzip, chunked"), -501, NULL, 0, 0 },
    { "TE unknown coding, chunked", TE("POST", "br;q=\"a,\\\"b\", chunked"), -501, NULL, 0, 0 },
    { "TE gzip, chunked on GET", TE("GET", "gzip , chunked"), -501, NULL, 0, 0 },
    { "TE 501 without Host is 400", IN("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), -400, NULL, 0, 0 },
#undef TE
    /* RFC 9110 10.1.1: 100-continue is the only expectation */
#define EXPECT(v) IN("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: " v "\r\n\r\n")
    { "Expect 100-continue", EXPECT("100-continue"), ALL, "/", 1, 1 },
    { "Expect 100-Continue", EXPECT("100-Continue"), ALL, "/", 1, 1 },
    { "Expect empty", EXPECT(""), ALL, "/", 1, 1 },
    { "Expect 100-continue listed twice", EXPECT("100-continue, 100-continue"), ALL, "/", 1, 1 },
    { "Expect unknown", EXPECT("fly"), -417, NULL, 0, 0 },
    { "Expect 100-continue with parameter", EXPECT("100-continue;a=b"), -417, NULL, 0, 0 },
    { "Expect 100-continue=1", EXPECT("100-continue=1"), -417, NULL, 0, 0 },
    { "Expect 100-continue and another", EXPECT("100-continue, fly"), -417, NULL, 0, 0 },
    { "Expect 1000-continue", EXPECT("1000-continue"), -417, NULL, 0, 0 },
    { "Expect on GET", IN("GET / HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n"), -417, NULL, 0, 0 },
    { "Expect unknown in 1.0", IN("GET / HTTP/1.0\r\nExpect: x\r\n\r\n"), -417, NULL, 0, 0 },
    { "duplicate Expect", IN("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n"), -400, NULL, 0, 0 },
#undef EXPECT
    /* duplicates of conditional and range fields */
    { "duplicate Range", IN("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nRange: bytes=0-1\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate If-Match", IN("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\nIf-Match: *\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate If-None-Match", IN("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\nIF-NONE-MATCH: \"b\"\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate If-Modified-Since", IN("GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: a\r\nIf-Modified-Since: a\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate If-Unmodified-Since", IN("GET / HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: a\r\nIf-Unmodified-Since: a\r\n\r\n"), -400, NULL, 0, 0 },
    { "duplicate If-Range", IN("GET / HTTP/1.1\r\nHost: x\r\nIf-Range: a\r\nIf-Range: a\r\n\r\n"), -400, NULL, 0, 0 },
    /* Connection */
    { "1.1 close", IN("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), ALL, "/", 1, 0 },
    { "1.1 CLOSE upper", IN("GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n"), ALL, "/", 1, 0 },
    { "1.1 close in list", IN("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade , close\r\n\r\n"), ALL, "/", 1, 0 },
    { "1.1 closed not close", IN("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n"), ALL, "/", 1, 1 },
    { "1.1 close in second field", IN("GET / HTTP/1.1\r\nHost: x\r\nConnection: te\r\nConnection: close\r\n\r\n"), ALL, "/", 1, 0 },
    { "1.0 keep-alive", IN("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), ALL, "/", 0, 1 },
    { "1.0 keep-alive and close", IN("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), ALL, "/", 0, 0 },
    { "1.0 default close", IN("GET / HTTP/1.0\r\nConnection: foo\r\n\r\n"), ALL, "/", 0, 0 },
    /* incomplete heads */
    { "empty input", IN(""), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "CR only", IN("\r"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "method only", IN("GET"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "in target", IN("GET /abc"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "in version", IN("GET / HTTP/1."), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "before LF of request line", IN("GET / HTTP/1.1\r"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "in field name", IN("GET / HTTP/1.1\r\nHo"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "in field value", IN("GET / HTTP/1.1\r\nHost: x"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "headers unfinished", IN("GET / HTTP/1.1\r\nHost: x\r\n"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "final CR", IN("GET / HTTP/1.1\r\nHost: x\r\n\r"), ZC_HTTP_PARTIAL, NULL, 0, 0 },
    { "bad prefix found early", IN("GET / HTTQ"), -400, NULL, 0, 0 },
    { "bad field found early", IN("GET / HTTP/1.1\r\nHost : "), -400, NULL, 0, 0 },
    { "505 found early", IN("GET / HTTP/2.0\r\n"), -505, NULL, 0, 0 },
};

static void test_table(void)
{
    char *guard = t_guard_page();        /* first byte of a PROT_NONE page */

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct parse_case *tc = &cases[i];
        char *buf = guard - tc->in_len;  /* input ends right at the guard page */
        int want = tc->want == ALL ? (int)tc->in_len : tc->want;
        struct zc_http_req req;
        int ret;

        memcpy(buf, tc->in, tc->in_len);
        ret = zc_http_parse_request(buf, tc->in_len, NULL, &req);
        t_is_int(ret, want, "%s: return value", tc->name);
        if (want > 0 && ret == want) {
            if (tc->target)
                t_is_mem(req.target.p, req.target.len, tc->target, "%s: target", tc->name);
            t_is_int(req.version_minor, tc->minor, "%s: version", tc->name);
            t_is_int(req.keep_alive, tc->keep_alive, "%s: keep-alive", tc->name);
        }
    }
}

/* Every proper prefix of a valid head is PARTIAL, never an error. */
static void test_prefixes(void)
{
    static const char head[] =
        "\r\nGET http://[::1]:80/x?y HTTP/1.1\r\nHost: [::1]:80\r\n"
        "Range: bytes=0-1\r\nIf-None-Match: W/\"a\", \"b\"\r\n"
        "Connection: keep-alive\r\nContent-Length: 0\r\n\r\n";
    size_t n = sizeof(head) - 1;
    char *guard = t_guard_page();
    int bad = 0;

    for (size_t len = 0; len < n; len++) {
        struct zc_http_req req;

        memcpy(guard - len, head, len);
        if (zc_http_parse_request(guard - len, len, NULL, &req) != ZC_HTTP_PARTIAL)
            bad++;
    }
    t_is_int(bad, 0, "every proper prefix is PARTIAL");
    {
        struct zc_http_req req;

        memcpy(guard - n, head, n);
        t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n,
                 "the whole head parses");
    }
}

/* expect_continue: what the server acts on (a 100 before reading a body). */
static void test_expect_continue(void)
{
    static const struct {
        const char *in;
        int want;
    } expect_cases[] = {
        { "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", 1 },
        { "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-CONTINUE\r\n\r\n", 1 },
        { "PUT / HTTP/1.1\r\nHost: x\r\nExpect: ,100-continue,\r\n\r\n", 1 },
        { "PUT / HTTP/1.1\r\nHost: x\r\nExpect:\r\n\r\n", 0 },
        { "PUT / HTTP/1.1\r\nHost: x\r\n\r\n", 0 },
        /* RFC 9110 10.1.1: a 1.0 request's 100-continue is ignored */
        { "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0 },
    };
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(expect_cases); i++) {
        size_t n = strlen(expect_cases[i].in);
        struct zc_http_req req;

        memcpy(guard - n, expect_cases[i].in, n);
        t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n,
                 "expect case %zu parses", i);
        t_is_int(req.expect_continue, expect_cases[i].want, "expect case %zu: expect_continue %d",
                 i, expect_cases[i].want);
    }
}

static void test_fields(void)
{
    static const char head[] =
        "GET /f%20x HTTP/1.1\r\n"
        "host: Example.COM:8080 \r\n"
        "Range:\tbytes=0-99, 200-\t\r\n"
        "If-Range: \"e1\"\r\n"
        "If-Match: \"m\"\r\n"
        "If-None-Match: W/\"a\", \"b\"\r\n"
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        "If-Unmodified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
        "Expect: 100-continue\r\n"
        "User-Agent: curl/7.88.1\r\n"
        "Referer: http://r/\r\n"
        "Content-Length: 0\r\n"
        "X-Other: 1\r\n"
        "\r\n";
    char *guard = t_guard_page();
    size_t n = sizeof(head) - 1;
    char *buf = guard - n;
    struct zc_http_req req;

    memcpy(buf, head, n);
    t_is_int(zc_http_parse_request(buf, n, NULL, &req), (int)n, "all fields: parsed");
    t_is_int(req.method, ZC_HTTP_GET, "method GET");
    t_is_mem(req.method_str.p, req.method_str.len, "GET", "method_str");
    t_is_int(req.target_form, ZC_HTTP_TARGET_ORIGIN, "origin-form");
    t_is_mem(req.path.p, req.path.len, "/f%20x", "path");
    t_ok(req.authority.p == NULL, "no authority for origin-form");
    t_is_mem(req.host.p, req.host.len, "Example.COM:8080", "host");
    t_is_mem(req.range.p, req.range.len, "bytes=0-99, 200-", "range, OWS stripped");
    t_is_mem(req.if_range.p, req.if_range.len, "\"e1\"", "if-range");
    t_is_mem(req.if_match.p, req.if_match.len, "\"m\"", "if-match");
    t_is_mem(req.if_none_match.p, req.if_none_match.len, "W/\"a\", \"b\"", "if-none-match");
    t_is_mem(req.if_modified_since.p, req.if_modified_since.len,
             "Sun, 06 Nov 1994 08:49:37 GMT", "if-modified-since");
    t_is_mem(req.if_unmodified_since.p, req.if_unmodified_since.len,
             "Mon, 07 Nov 1994 08:49:37 GMT", "if-unmodified-since");
    t_is_mem(req.expect.p, req.expect.len, "100-continue", "expect");
    t_is_mem(req.user_agent.p, req.user_agent.len, "curl/7.88.1", "user-agent");
    t_is_mem(req.referer.p, req.referer.len, "http://r/", "referer");
    t_is_int(req.content_length, 0, "content-length 0");
    t_ok(req.transfer_encoding.p == NULL, "no transfer-encoding");
    t_is_int(req.field_count, 12, "field count");
    t_is_int(req.keep_alive, 1, "keep-alive");
    t_is_int(req.has_connection_close, 0, "no close");

    static const char min[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    n = sizeof(min) - 1;
    memcpy(guard - n, min, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "minimal: parsed");
    t_is_int(req.content_length, -1, "no content-length is -1");
    t_ok(req.range.p == NULL && req.if_none_match.p == NULL, "absent fields NULL");

    static const char big[] = "POST / HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 9223372036854775807\r\n\r\n";
    n = sizeof(big) - 1;
    memcpy(guard - n, big, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "INT64_MAX length");
    t_is_int(req.content_length, INT64_MAX, "INT64_MAX content-length");
    static const char over[] = "POST / HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 9223372036854775808\r\n\r\n";
    n = sizeof(over) - 1;
    memcpy(guard - n, over, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), -400, "INT64_MAX+1 length");
}

static void test_methods_and_forms(void)
{
    static const struct {
        const char *in;
        enum zc_http_method m;
    } methods[] = {
        { "GET", ZC_HTTP_GET }, { "HEAD", ZC_HTTP_HEAD }, { "PUT", ZC_HTTP_PUT },
        { "POST", ZC_HTTP_POST }, { "DELETE", ZC_HTTP_DELETE },
        { "OPTIONS", ZC_HTTP_OPTIONS }, { "PATCH", ZC_HTTP_PATCH },
        { "TRACE", ZC_HTTP_TRACE }, { "BREW", ZC_HTTP_OTHER },
        { "GETS", ZC_HTTP_OTHER }, { "get", ZC_HTTP_OTHER },
    };
    char *guard = t_guard_page();
    struct zc_http_req req;
    char line[64];

    for (size_t i = 0; i < T_ARRAY_SIZE(methods); i++) {
        int n = snprintf(line, sizeof(line), "%s / HTTP/1.1\r\nHost: h\r\n\r\n",
                         methods[i].in);

        memcpy(guard - n, line, (size_t)n);
        t_is_int(zc_http_parse_request(guard - n, (size_t)n, NULL, &req), n,
                 "%s parses", methods[i].in);
        t_is_int(req.method, methods[i].m, "%s method", methods[i].in);
        if (methods[i].m != ZC_HTTP_OTHER)
            t_is_str(zc_http_method_name(req.method), methods[i].in, "%s name",
                     methods[i].in);
    }
    t_is_str(zc_http_method_name(ZC_HTTP_CONNECT), "CONNECT", "CONNECT name");
    t_is_str(zc_http_method_name(ZC_HTTP_OTHER), "", "OTHER name is empty");
    t_is_str(zc_http_method_name((enum zc_http_method)77), "", "out of range name");

    static const char abs[] = "GET http://h:81/p/q?r HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t n = sizeof(abs) - 1;
    memcpy(guard - n, abs, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "absolute parses");
    t_is_int(req.target_form, ZC_HTTP_TARGET_ABSOLUTE, "absolute-form");
    t_is_mem(req.authority.p, req.authority.len, "h:81", "absolute authority");
    t_is_mem(req.path.p, req.path.len, "/p/q?r", "absolute path");

    static const char abs2[] = "GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n";
    n = sizeof(abs2) - 1;
    memcpy(guard - n, abs2, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "absolute no path");
    t_is_mem(req.path.p, req.path.len, "/", "absolute no path gives /");
    t_is_mem(req.authority.p, req.authority.len, "h", "absolute no path authority");

    static const char con[] = "CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n";
    n = sizeof(con) - 1;
    memcpy(guard - n, con, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "CONNECT parses");
    t_is_int(req.target_form, ZC_HTTP_TARGET_AUTHORITY, "authority-form");
    t_is_mem(req.authority.p, req.authority.len, "[::1]:443", "CONNECT authority");
    t_ok(req.path.p == NULL, "CONNECT has no path");

    static const char star[] = "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
    n = sizeof(star) - 1;
    memcpy(guard - n, star, n);
    t_is_int(zc_http_parse_request(guard - n, n, NULL, &req), (int)n, "OPTIONS * parses");
    t_is_int(req.target_form, ZC_HTTP_TARGET_ASTERISK, "asterisk-form");
}

/* Build "GET /<tlen a's> HTTP/1.1\r\nHost: x\r\n" + nfields "X: y\r\n" + CRLF
 * ending at the guard page; returns its start. */
static char *build(char *guard, size_t tlen, unsigned nfields, size_t *len)
{
    static char tmp[8192];
    size_t n = 0;

    n += (size_t)snprintf(tmp, sizeof(tmp), "GET /");
    memset(tmp + n, 'a', tlen);
    n += tlen;
    n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, " HTTP/1.1\r\nHost: x\r\n");
    for (unsigned i = 0; i < nfields; i++)
        n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "X: y\r\n");
    n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\r\n");
    memcpy(guard - n, tmp, n);
    *len = n;
    return guard - n;
}

static void test_limits(void)
{
    char *guard = t_guard_page();
    struct zc_http_limits lim = { .max_head = 200, .max_target = 50, .max_fields = 5 };
    struct zc_http_req req;
    size_t len;
    char *buf;

    /* target: 1 + tlen bytes ("/" + a's) */
    buf = build(guard, 49, 0, &len);
    t_is_int(zc_http_parse_request(buf, len, &lim, &req), (int)len, "target at max_target");
    buf = build(guard, 50, 0, &len);
    t_is_int(zc_http_parse_request(buf, len, &lim, &req), -414, "target over max_target");
    t_is_int(zc_http_parse_request(buf, 60, &lim, &req), -414,
             "target over max_target, head unfinished");
    /* fields: Host + 4 = 5 allowed */
    buf = build(guard, 1, 4, &len);
    t_is_int(zc_http_parse_request(buf, len, &lim, &req), (int)len, "fields at max_fields");
    buf = build(guard, 1, 5, &len);
    t_is_int(zc_http_parse_request(buf, len, &lim, &req), -431, "fields over max_fields");

    /* head size: exactly max_head passes, one more byte is 431 */
    struct zc_http_limits big = { .max_head = 0, .max_target = 0, .max_fields = 1000 };
    buf = build(guard, 10, 3, &len);
    big.max_head = len;
    t_is_int(zc_http_parse_request(buf, len, &big, &req), (int)len, "head at max_head");
    big.max_head = len - 1;
    t_is_int(zc_http_parse_request(buf, len, &big, &req), -431, "head over max_head");
    t_is_int(zc_http_parse_request(buf, len - 1, &big, &req), ZC_HTTP_PARTIAL,
             "max_head bytes, unfinished: still PARTIAL");
    t_is_int(zc_http_parse_request(buf, len - 2, &big, &req), ZC_HTTP_PARTIAL,
             "under max_head, unfinished: PARTIAL");

    /* defaults: 64 fields, 4096-byte target, 8192-byte head */
    buf = build(guard, 4095, 63, &len);
    t_is_int(zc_http_parse_request(buf, len, NULL, &req), (int)len, "default limits fit");
    buf = build(guard, 4096, 0, &len);
    t_is_int(zc_http_parse_request(buf, len, NULL, &req), -414, "default max_target");
    buf = build(guard, 1, 64, &len);
    t_is_int(zc_http_parse_request(buf, len, NULL, &req), -431, "default max_fields");
    {
        /* a single huge field that never ends: 431 past max_head */
        static char huge[4100];
        struct zc_http_limits small = { .max_head = 4096 };
        size_t h = (size_t)snprintf(huge, sizeof(huge), "GET / HTTP/1.1\r\nX: ");

        memset(huge + h, 'v', sizeof(huge) - h);
        memcpy(guard - sizeof(huge), huge, sizeof(huge));
        t_is_int(zc_http_parse_request(guard - sizeof(huge), sizeof(huge), &small, &req),
                 -431, "unfinished head over max_head");
        t_is_int(zc_http_parse_request(guard - sizeof(huge), 4096, &small, &req),
                 ZC_HTTP_PARTIAL, "unfinished head of exactly max_head");
    }
}

int main(void)
{
    test_table();
    test_prefixes();
    test_fields();
    test_expect_continue();
    test_methods_and_forms();
    test_limits();
    return t_done();
}
