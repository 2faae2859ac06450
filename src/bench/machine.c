/* machine.c - the machine description every output carries: kernel, CPU
 * model, cores, memory, and the filesystem the source file lives on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

/* The value of the first "key : value" line of a /proc file, or "". */
static void proc_field(const char *file, const char *key, char *out, size_t len)
{
    FILE *f = fopen(file, "re");
    char line[1024];
    size_t klen = strlen(key);

    out[0] = '\0';
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *p;

        if (strncmp(line, key, klen) || (line[klen] != ' ' && line[klen] != '\t' &&
                                         line[klen] != ':'))
            continue;
        p = strchr(line, ':');
        if (!p)
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(out, len, "%s", p);
        break;
    }
    fclose(f);
}

static bool cpu_has_hypervisor(void)
{
    char flags[4096];

    proc_field("/proc/cpuinfo", "flags", flags, sizeof(flags));
    return strstr(flags, " hypervisor") != NULL;
}

static const char *fs_name(unsigned long magic)
{
    static const struct { unsigned long magic; const char *name; } fs[] = {
        { 0xEF53, "ext4" }, { 0x58465342, "xfs" }, { 0x9123683E, "btrfs" },
        { 0x01021994, "tmpfs" }, { 0x794c7630, "overlay" }, { 0xF2F52010, "f2fs" },
        { 0x2FC12FC1, "zfs" }, { 0x6969, "nfs" }, { 0xFF534D42, "cifs" },
        { 0x65735546, "fuse" }, { 0x858458f6, "ramfs" },
    };

    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
        if (fs[i].magic == magic)
            return fs[i].name;
    return NULL;
}

void bench_machine_describe(struct bench_machine *m, const char *dir)
{
    struct utsname u;
    struct statfs sf;
    char mem[64];

    memset(m, 0, sizeof(*m));
    m->memcpy_gbps = NAN;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname, u.release,
                 u.machine);
    proc_field("/proc/cpuinfo", "model name", m->cpu, sizeof(m->cpu));
    if (!m->cpu[0])
        snprintf(m->cpu, sizeof(m->cpu), "unknown");
    m->virtual_machine = cpu_has_hypervisor();
    m->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    proc_field("/proc/meminfo", "MemTotal", mem, sizeof(mem));
    m->mem_bytes = strtoull(mem, NULL, 10) * 1024;   /* "24573452 kB" */
    snprintf(m->dir, sizeof(m->dir), "%s", dir);
    if (statfs(dir, &sf) == 0) {
        const char *name = fs_name((unsigned long)sf.f_type);

        if (name)
            snprintf(m->fs, sizeof(m->fs), "%s", name);
        else
            snprintf(m->fs, sizeof(m->fs), "0x%lx", (unsigned long)sf.f_type);
    } else {
        snprintf(m->fs, sizeof(m->fs), "unknown");
    }
}
