/* main.c - the zcopy program: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "zcopy.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "version", cmd_version, "print the program and library versions" },
    { "serve", cmd_serve, "serve a directory over HTTP/1.1 (zero-copy bodies)" },
    { "bench", cmd_bench, "measure every transfer technique against the articles' table" },
    { "get", cmd_get, "download a URL into a file (splice socket -> file)" },
    { "put", cmd_put, "upload a file with HTTP PUT (sendfile)" },
    { "cp", cmd_cp, "copy a file (copy_file_range, reflink, sparse-aware)" },
    { "log", cmd_log, "Kafka log store tools: dump a segment, verify a data directory" },
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: zcopy <command> [options]\n"
            "       zcopy --help | --version\n\n"
            "Move file bytes to sockets, pipes and files with the fewest copies Linux allows.\n\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'zcopy <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "zcopy: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
