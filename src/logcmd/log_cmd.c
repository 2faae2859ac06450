/* log_cmd.c - `zcopy log SUBCOMMAND`: dispatch and help. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "logcmd/logcmd.h"

static void usage(FILE *out)
{
    fputs(
"usage: zcopy log dump PATH\n"
"       zcopy log verify DIR [--repair]\n"
"       zcopy log bench [--dir DIR] [--mib N] [--runs N]\n"
"\n"
"Offline tools for the log store that `zcopy broker` keeps in Kafka's layout\n"
"(DIR/<topic>-<partition>/<20-digit base offset>.log|.index|.timeindex).\n"
"\n"
"  dump PATH      print a segment's batches (base and last offset, position,\n"
"                 size, record count, codec, timestamps, CRC ok/bad), or an\n"
"                 .index / .timeindex file's entries\n"
"  verify DIR     check every segment (length, magic, CRC-32C, offsets) and\n"
"                 index of a data directory; exit 0 when clean, 1 with each\n"
"                 problem printed\n"
"    --repair     run the store's recovery over everything first (cut at the\n"
"                 first bad batch, drop later segments, rebuild indexes)\n"
"  bench          append rate (write vs mmap mode; 100 B, 1 KiB, 16 KiB\n"
"                 batches), recovery scan rate, index lookup time, CRC-32C\n"
"\n"
"exit status: 0 clean; 1 problems found; 2 usage; 3 a file could not be read\n"
"or the repair failed.\n", out);
}

int cmd_log(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ZC_LOG_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "dump"))
        return zc_logcmd_dump(argc - 1, argv + 1);
    if (!strcmp(argv[1], "verify"))
        return zc_logcmd_verify(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench"))
        return zc_logcmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "zcopy log: unknown subcommand '%s'\n\n", argv[1]);
    usage(stderr);
    return ZC_LOG_EXIT_USAGE;
}
