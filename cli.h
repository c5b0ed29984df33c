/* Command-line parsing for `vmm run`. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include "vm.h"

#include <stdint.h>
#include <stdio.h>

/*
 * Parse a size with an optional K/M/G/T suffix (powers of 1024; no suffix
 * means bytes). Returns 0 and stores it in *out, or -1 when malformed or
 * above 2^52.
 */
int parse_size(const char *s, uint64_t *out);

/* Parse a duration: a number with ms (default), s or m. Returns 0 or -1. */
int parse_duration_ms(const char *s, uint32_t *ms);

/*
 * Parse `vmm run` arguments (argv[0] is the first option) into cfg, with the
 * documented defaults. Any mistake exits with status 2 and one line.
 */
void cli_parse_run(int argc, char **argv, struct vm_config *cfg);

/* Read a --snapshot-key file into cfg (1 byte to 64 KiB); exits 2 on problems. */
void cli_load_key(const char *path, struct vm_config *cfg);

/* Parse one --disk value into cfg (exits 2 on mistakes). */
void cli_parse_disk(char *arg, struct vm_config *cfg);
/* --seccomp on|log|off, for run and restore. */
void cli_parse_seccomp(const char *v, struct vm_config *cfg);
/* --net tap=NAME[,mac=MAC], for run and restore. */
void cli_parse_net(char *arg, struct vm_config *cfg);

/* Parse a --console value into cfg. */
void cli_parse_console(const char *s, struct vm_config *cfg);

/* Print the full usage text to f. */
void cli_usage(FILE *f);

#endif
