/* test_bench_format.c - CSV and JSON of fixed records parse back to what was
 * rendered: field counts, quoting and escaping (quotes, commas, newlines,
 * tabs, backslashes, control characters, UTF-8), numbers, and empty/null for
 * what was not measured. CSV is read back by a strict RFC 4180 reader here;
 * JSON by Python's json module, an independent parser. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fixture.h"
#include "tap.h"
#include "testutil.h"

#define MAX_FIELDS 64
#define MAX_ROWS 16

struct csv {
    int rows;
    int nfields[MAX_ROWS];
    char *field[MAX_ROWS][MAX_FIELDS];
    int comments;
    char comment[32][600];
};

/* RFC 4180 with CRLF records; a record starting with '#' is a comment. */
static int csv_parse(const char *p, struct csv *c)
{
    memset(c, 0, sizeof(*c));
    while (*p) {
        if (*p == '#') {
            const char *e = strstr(p, "\r\n");

            if (!e || c->comments == 32)
                return -1;
            snprintf(c->comment[c->comments++], sizeof(c->comment[0]), "%.*s",
                     (int)(e - p), p);
            p = e + 2;
            continue;
        }
        if (c->rows == MAX_ROWS)
            return -1;
        for (;;) {
            char *f = malloc(strlen(p) + 1);
            size_t n = 0;

            if (*p == '"') {
                for (p++;; p++) {
                    if (!*p) {
                        free(f);
                        return -1;
                    }
                    if (*p == '"') {
                        if (p[1] != '"') {
                            p++;
                            break;
                        }
                        p++;
                    }
                    f[n++] = *p;
                }
            } else {
                while (*p && *p != ',' && *p != '\r' && *p != '"' && *p != '\n')
                    f[n++] = *p++;
                if (*p == '"' || *p == '\n') {      /* a bare quote or LF: invalid */
                    free(f);
                    return -1;
                }
            }
            f[n] = '\0';
            if (c->nfields[c->rows] == MAX_FIELDS) {
                free(f);
                return -1;
            }
            c->field[c->rows][c->nfields[c->rows]++] = f;
            if (*p == ',') {
                p++;
                continue;
            }
            if (p[0] == '\r' && p[1] == '\n') {
                p += 2;
                break;
            }
            return -1;
        }
        c->rows++;
    }
    return 0;
}

static void csv_free(struct csv *c)
{
    for (int r = 0; r < c->rows; r++)
        for (int i = 0; i < c->nfields[r]; i++)
            free(c->field[r][i]);
}

static const char *col(const struct csv *c, int row, const char *name)
{
    for (int i = 0; i < c->nfields[0]; i++)
        if (!strcmp(c->field[0][i], name))
            return i < c->nfields[row] ? c->field[row][i] : NULL;
    return NULL;
}

static bool num_is(const char *s, double want)
{
    char *end;
    double v;

    if (!s || !*s)
        return false;
    v = strtod(s, &end);
    return !*end && fabs(v - want) <= fabs(want) * 1e-5;
}

static void test_csv(const struct bench_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct csv c;

    t_is_int(bench_render_csv(f, r), 0, "csv: renders");
    fclose(f);
    t_is_int(csv_parse(buf, &c), 0, "csv: parses as RFC 4180");
    t_is_int(c.rows, 4, "csv: header + 3 records");
    for (int i = 1; i < c.rows; i++)
        t_is_int(c.nfields[i], c.nfields[0], "csv: row %d has as many fields as the header", i);
    t_is_int(c.nfields[0], 29, "csv: 29 columns");

    t_is_str(col(&c, 1, "method"), "sendfile", "csv: method");
    t_is_str(col(&c, 1, "sink"), "tcp", "csv: sink");
    t_is_str(col(&c, 1, "status"), "ok", "csv: status");
    t_is_str(col(&c, 1, "verdict"), fixture_rec[0].verdict,
             "csv: verdict with quotes, comma, newline, tab, backslash, control, UTF-8");
    t_ok(num_is(col(&c, 1, "throughput"), 2.5), "csv: throughput 2.5");
    t_ok(num_is(col(&c, 1, "throughput_min"), 2.25), "csv: throughput_min");
    t_ok(num_is(col(&c, 1, "throughput_max"), 3.125), "csv: throughput_max");
    t_ok(num_is(col(&c, 1, "ns_per_transfer"), 429496729.6), "csv: ns_per_transfer (6 digits)");
    t_ok(num_is(col(&c, 1, "cpu"), 0.376), "csv: cpu");
    t_ok(num_is(col(&c, 1, "est_cpu_copies"), 7.52), "csv: est_cpu_copies");
    t_is_str(col(&c, 1, "syscalls"), "512", "csv: syscalls is an integer");
    t_is_str(col(&c, 1, "bytes"), "1073741824", "csv: bytes");
    t_is_str(col(&c, 1, "theory_cpu_copies"), "1 (0 with SG-DMA)", "csv: theory");
    t_is_str(col(&c, 1, "theory_source"), bench_theory(ZC_SENDFILE)->source,
             "csv: theory source with commas survives");

    t_is_str(col(&c, 2, "status"), "refused", "csv: refused status");
    t_is_str(col(&c, 2, "error"), "EOPNOTSUPP", "csv: refusal errno name");
    t_is_str(col(&c, 2, "throughput"), "", "csv: not measured is empty");
    t_is_str(col(&c, 2, "syscalls"), "", "csv: refused has no syscalls");
    t_is_str(col(&c, 2, "verdict"), "", "csv: refused has no verdict");

    t_is_str(col(&c, 3, "receiver_cpu"), "", "csv: NaN receiver CPU is empty");
    t_is_str(col(&c, 3, "zc_copied"), "1073741824", "csv: zc_copied");
    t_is_str(col(&c, 3, "theory_cpu_copies"), "", "csv: no theory for msg_zerocopy");

    bool kernel = false, cpu = false, fs = false;
    for (int i = 0; i < c.comments; i++) {
        kernel |= !strcmp(c.comment[i], "# kernel: Linux 6.18.0 x86_64");
        cpu |= !strcmp(c.comment[i], "# cpu: Test CPU \"Zen\" 9, 2.0GHz");
        fs |= !strcmp(c.comment[i], "# filesystem: ext4");
    }
    t_ok(kernel && cpu && fs, "csv: machine description in comment lines");
    csv_free(&c);
    free(buf);
}

static const char json_check[] =
"import json, sys\n"
"d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
"def check(cond, what):\n"
"    print(('ok' if cond else 'FAIL') + ' ' + what)\n"
"m = d['machine']\n"
"check(m['kernel'] == 'Linux 6.18.0 x86_64', 'machine.kernel')\n"
"check(m['cpu'] == 'Test CPU \"Zen\" 9, 2.0GHz', 'machine.cpu with quotes')\n"
"check(m['cores'] == 2 and m['memory_bytes'] == 24 << 30, 'machine cores, memory')\n"
"check(m['filesystem'] == 'ext4' and m['virtual_machine'] is True, 'machine fs, vm')\n"
"check(d['size'] == 1 << 30 and d['runs'] == 3 and d['cold'] is False, 'run parameters')\n"
"r = d['records']\n"
"check(len(r) == 3, 'three records')\n"
"keys = {'method', 'sink', 'throughput', 'cpu', 'syscalls', 'status', 'bytes'}\n"
"check(all(keys <= set(x) for x in r), 'every record has the required keys')\n"
"a, b, c = r\n"
"check(a['method'] == 'sendfile' and a['sink'] == 'tcp' and a['status'] == 'ok', 'record 0 ids')\n"
"check(a['verdict'] == 'a \"quoted\", comma\\nnewline\\ttab \\\\ backslash \\x01 ctl, caf\\u00e9', 'escaped verdict')\n"
"check(a['throughput'] == 2.5 and a['throughput_min'] == 2.25 and a['throughput_max'] == 3.125, 'throughputs')\n"
"check(abs(a['ns_per_transfer'] - 429496729.6) < 10, 'ns_per_transfer')\n"
"check(a['syscalls'] == 512 and isinstance(a['syscalls'], int), 'syscalls integer')\n"
"check(a['switches_per_transfer'] == 1024, 'switches')\n"
"check(a['cpu'] == 0.376 and a['cpu_sys'] == 0.375 and a['receiver_cpu'] == 0.25, 'cpu numbers')\n"
"check(a['theory']['cpu_copies'] == '1 (0 with SG-DMA)', 'theory object')\n"
"check(b['status'] == 'refused' and b['error'] == 'EOPNOTSUPP', 'refused record')\n"
"check(b['throughput'] is None and b['syscalls'] is None and b['verdict'] is None, 'refused: nulls')\n"
"check(c['receiver_cpu'] is None, 'NaN is null')\n"
"check(c['zc_copied'] == 1 << 30 and c['zc_sent'] == 16384, 'zero-copy counters')\n"
"check(c['theory']['cpu_copies'] is None, 'no theory is null')\n";

static void test_json(const struct bench_report *r)
{
    char path[512], script[512], cmd[1200], line[512];
    FILE *f, *p;
    int oks = 0, fails = 0, status;

    snprintf(path, sizeof(path), "%s/bench.json", t_tmpdir());
    snprintf(script, sizeof(script), "%s/check.py", t_tmpdir());
    f = fopen(path, "w");
    t_is_int(bench_render_json(f, r), 0, "json: renders");
    fclose(f);
    f = fopen(script, "w");
    fputs(json_check, f);
    fclose(f);
    if (system("python3 -c '' 2>/dev/null") != 0) {
        t_ok(1, "json parse-back # SKIP python3 not installed");
        return;
    }
    snprintf(cmd, sizeof(cmd), "python3 %s %s 2>&1", script, path);
    p = popen(cmd, "r");
    while (p && fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "ok ", 3)) {
            oks++;
            t_ok(1, "json: %s", line + 3);
        } else {
            fails++;
            t_ok(0, "json: %s", line);
        }
    }
    status = p ? pclose(p) : -1;
    t_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "json: python parsed it");
    t_is_int(oks, 20, "json: all 20 checks ran");
    t_is_int(fails, 0, "json: no check failed");
}

int main(void)
{
    struct bench_report r;

    fixture_report(&r);
    test_csv(&r);
    test_json(&r);
    return t_done();
}
