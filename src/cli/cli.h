/* cli.h - small helpers the server commands share: sizes with k/M/G
 * suffixes, the core count, the fd limit, dropping root. */
#ifndef ZC_CLI_CLI_H
#define ZC_CLI_CLI_H

#include <stdint.h>

/* zc_cli_parse_size - "1048576", "64k", "10M", "2G", "1T" (powers of 1024).
 * Return: 0 or -EINVAL (sign, junk, overflow). */
int zc_cli_parse_size(const char *s, uint64_t *out);

/* zc_cli_parse_int - a decimal in [min, max]. Return: 0 or -EINVAL. */
int zc_cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* zc_cli_cores - CPUs this process may run on (at least 1). */
unsigned zc_cli_cores(void);

/* zc_cli_raise_fd_limit - soft RLIMIT_NOFILE up to the hard limit. */
void zc_cli_raise_fd_limit(void);

/* zc_cli_drop_privileges - become user @name (groups, gid, uid), checking
 * that root cannot be regained. Messages go to stderr prefixed by @who.
 * Return: 0 or -1. */
int zc_cli_drop_privileges(const char *who, const char *name);

#endif /* ZC_CLI_CLI_H */
