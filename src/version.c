/* version.c - `zcopy version`. */
#include <stdio.h>

#include "commands.h"
#include "zcopy.h"

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("zcopy %s (libzcopy %s)\n", ZC_VERSION_STRING, zc_version());
    return 0;
}
