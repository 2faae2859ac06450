/* commands.h - the zcopy program's subcommands. Each takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit code. */
#ifndef ZC_COMMANDS_H
#define ZC_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_log(int argc, char **argv);

#endif /* ZC_COMMANDS_H */
