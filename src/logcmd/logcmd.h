/* logcmd.h - `zcopy log dump|verify|bench`: offline tools over the log
 * store's files (src/log/). Each returns the process exit status. */
#ifndef ZC_LOGCMD_H
#define ZC_LOGCMD_H

/* Exit statuses of the log tools. */
enum {
    ZC_LOG_EXIT_CLEAN = 0,
    ZC_LOG_EXIT_PROBLEMS = 1,           /* verify found something wrong */
    ZC_LOG_EXIT_USAGE = 2,
    ZC_LOG_EXIT_ERROR = 3,              /* a file could not be read, repair failed */
};

int zc_logcmd_dump(int argc, char **argv);
int zc_logcmd_verify(int argc, char **argv);
int zc_logcmd_bench(int argc, char **argv);

#endif /* ZC_LOGCMD_H */
