/* `vmm run` options: parsing, defaults and the usage text. */
#include "cli.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MEM (128ull << 20)

void cli_usage(FILE *f)
{
	fputs(
	    "usage: vmm run --kernel PATH [--initrd PATH] [--cmdline STR] [--mem SIZE] [--cpus N]\n"
	    "               [--disk PATH[,ro][,ephemeral]]... [--net tap=NAME[,mac=MAC]]...\n"
	    "               [--api SOCKET] [--console stdio|none|FILE] [--seccomp on|log|off]\n"
	    "               [--watchdog-action "
	    "reset|shutdown|poweroff|pause|dump|inject-nmi|none]\n"
	    "               [--heartbeat INTERVAL[,timeout=T][,action=A]]\n"
	    "               [--snapshot-on-ready FILE] [--dump-to FILE] [--snapshot-key KEYFILE]\n"
	    "               [-- GUEST-COMMAND...]\n"
	    "       vmm restore FILE [--verify lazy|full|none] [--api SOCKET] [--snapshot-key "
	    "KEYFILE]\n"
	    "               [--disk PATH[,ro][,ephemeral]]... [--net tap=NAME[,mac=MAC]]...\n"
	    "               [--console stdio|none|FILE] [--seccomp on|log|off] [-- "
	    "GUEST-COMMAND...]\n"
	    "       vmm inspect FILE [--snapshot-key KEYFILE]\n"
	    "       vmm ctl SOCKET status|pause|resume|quit|events\n"
	    "       vmm ctl SOCKET snapshot PATH [resume|exit|pause]\n"
	    "       vmm --help | --version\n"
	    "See README.md for every flag and the exit statuses.\n",
	    f);
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return -1;
	int shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v > (1ull << 52) >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_cpus(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || v > VMM_MAX_VCPUS)
		die_usage("--cpus %s: need a whole number from 1 to %d", s, VMM_MAX_VCPUS);
	return (int)v;
}

/* --disk PATH[,ro][,ephemeral] */
void cli_parse_disk(char *arg, struct vm_config *cfg)
{
	if (cfg->ndisks == VMM_MAX_DISKS)
		die_usage("--disk %s: at most %d disks", arg, VMM_MAX_DISKS);
	struct disk_config *dk = &cfg->disks[cfg->ndisks++];
	char *save = NULL, *part = strtok_r(arg, ",", &save);
	if (!part || !*part)
		die_usage("--disk needs a path");
	dk->path = part;
	while ((part = strtok_r(NULL, ",", &save))) {
		if (strcmp(part, "ro") == 0)
			dk->ro = 1;
		else if (strcmp(part, "ephemeral") == 0)
			dk->ephemeral = 1;
		else
			die_usage("--disk %s: unknown option '%s' (ro, ephemeral)", dk->path, part);
	}
	for (int i = 0; i < cfg->ndisks - 1; i++)
		if (strcmp(cfg->disks[i].path, dk->path) == 0)
			die_usage("--disk %s: given twice", dk->path);
}

/* --net tap=NAME[,mac=MAC] */
void cli_parse_seccomp(const char *v, struct vm_config *cfg)
{
	if (strcmp(v, "on") == 0)
		cfg->seccomp = SECCOMP_ON;
	else if (strcmp(v, "log") == 0)
		cfg->seccomp = SECCOMP_LOG;
	else if (strcmp(v, "off") == 0)
		cfg->seccomp = SECCOMP_OFF;
	else
		die_usage("--seccomp %s: on, log or off", v);
}

void cli_parse_net(char *arg, struct vm_config *cfg)
{
	if (cfg->nnets == VMM_MAX_NETS)
		die_usage("--net %s: at most %d network devices", arg, VMM_MAX_NETS);
	struct net_config *nc = &cfg->nets[cfg->nnets++];
	char *save = NULL, *part = strtok_r(arg, ",", &save);
	for (; part; part = strtok_r(NULL, ",", &save)) {
		if (strncmp(part, "tap=", 4) == 0 && !nc->tap) {
			nc->tap = part + 4;
		} else if (strncmp(part, "mac=", 4) == 0 && !nc->has_mac) {
			if (net_parse_mac(part + 4, nc->mac))
				die_usage("--net: mac=%s is not a unicast MAC address like "
					  "02:00:00:00:00:01",
					  part + 4);
			nc->has_mac = 1;
		} else {
			die_usage("--net: unexpected '%s' (tap=NAME[,mac=MAC])", part);
		}
	}
	if (!nc->tap || !*nc->tap)
		die_usage("--net needs tap=NAME");
	for (int i = 0; i < cfg->nnets - 1; i++) {
		if (strcmp(cfg->nets[i].tap, nc->tap) == 0)
			die_usage("--net tap=%s: given twice", nc->tap);
		if (nc->has_mac && cfg->nets[i].has_mac &&
		    memcmp(cfg->nets[i].mac, nc->mac, 6) == 0)
			die_usage("--net tap=%s: the same MAC as tap=%s", nc->tap,
				  cfg->nets[i].tap);
	}
}

void cli_parse_console(const char *s, struct vm_config *cfg)
{
	if (!*s)
		die_usage("--console: empty value (stdio, none or a file path)");
	if (strcmp(s, "stdio") == 0) {
		cfg->console = CONSOLE_STDIO;
	} else if (strcmp(s, "none") == 0) {
		cfg->console = CONSOLE_NONE;
	} else {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = s;
	}
}

static const char *const action_names[] = {
    [ACTION_NONE] = "none",
    [ACTION_RESET] = "reset",
    [ACTION_SHUTDOWN] = "shutdown",
    [ACTION_POWEROFF] = "poweroff",
    [ACTION_PAUSE] = "pause",
    [ACTION_DUMP] = "dump",
    [ACTION_INJECT_NMI] = "inject-nmi",
};

const char *action_name(enum vm_action a)
{
	return action_names[a];
}

int action_parse(const char *s, enum vm_action *a)
{
	for (unsigned i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(s, action_names[i]) == 0) {
			*a = (enum vm_action)i;
			return 0;
		}
	return -1;
}

#define HB_INTERVAL_MIN_MS 10u
#define HB_INTERVAL_MAX_MS 3600000u	   /* an hour */
#define HB_TIMEOUT_MAX_MS (24u * 3600000u) /* a day */

int parse_duration_ms(const char *s, uint32_t *ms)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10), mult = 1;
	if (strcmp(end, "ms") == 0 || *end == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000;
	else
		return -1;
	if (v > 0xffffffffull / mult)
		return -1;
	*ms = (uint32_t)(v * mult);
	return 0;
}

static void parse_watchdog_action(const char *s, struct vm_config *cfg)
{
	if (action_parse(s, &cfg->watchdog_action))
		die_usage("--watchdog-action %s: unknown action (reset, shutdown, poweroff, pause, "
			  "dump, inject-nmi or none)",
			  s);
}

/* --heartbeat INTERVAL[,timeout=T][,action=A] */
static void parse_heartbeat(const char *arg, struct vm_config *cfg)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	char *save = NULL, *part = strtok_r(buf, ",", &save);
	int has_timeout = 0;
	if (!part || parse_duration_ms(part, &cfg->hb_interval_ms))
		die_usage("--heartbeat %s: the interval is not a duration (examples: 500ms, 2s)",
			  arg);
	if (cfg->hb_interval_ms < HB_INTERVAL_MIN_MS || cfg->hb_interval_ms > HB_INTERVAL_MAX_MS)
		die_usage("--heartbeat %s: interval must be from %u ms to 1 hour", arg,
			  HB_INTERVAL_MIN_MS);
	while ((part = strtok_r(NULL, ",", &save))) {
		if (strncmp(part, "timeout=", 8) == 0) {
			if (parse_duration_ms(part + 8, &cfg->hb_timeout_ms))
				die_usage("--heartbeat: timeout '%s' is not a duration", part + 8);
			has_timeout = 1;
		} else if (strncmp(part, "action=", 7) == 0) {
			if (action_parse(part + 7, &cfg->hb_action) ||
			    cfg->hb_action == ACTION_SHUTDOWN)
				die_usage(
				    "--heartbeat: unknown action '%s' (none, reset, poweroff, "
				    "pause, dump or inject-nmi)",
				    part + 7);
		} else {
			die_usage("--heartbeat: unknown part '%s' (timeout=T or action=A)", part);
		}
	}
	if (!has_timeout)
		cfg->hb_timeout_ms = 2 * cfg->hb_interval_ms;
	if (cfg->hb_timeout_ms < cfg->hb_interval_ms)
		die_usage("--heartbeat: timeout %u ms is shorter than the interval %u ms",
			  cfg->hb_timeout_ms, cfg->hb_interval_ms);
	if (cfg->hb_timeout_ms > HB_TIMEOUT_MAX_MS)
		die_usage("--heartbeat: timeout %u ms is more than a day", cfg->hb_timeout_ms);
}

/* Split "--flag=value" or take the next argument as the value. */
static const char *option_value(int argc, char **argv, int *i, const char *flag)
{
	const char *eq = strchr(argv[*i], '=');
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		die_usage("%s needs a value", flag);
	return argv[++*i];
}

static const char *nonempty(const char *flag, const char *v)
{
	if (!*v)
		die_usage("%s: empty path", flag);
	return v;
}

#define KEY_MAX (64 * 1024)

void cli_load_key(const char *path, struct vm_config *cfg)
{
	static uint8_t key[KEY_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_usage("--snapshot-key %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die_usage("--snapshot-key %s: not a regular file", path);
	ssize_t n = read(fd, key, sizeof(key));
	close(fd);
	if (n <= 0 || st.st_size > KEY_MAX)
		die_usage("--snapshot-key %s: the key must be 1 byte to 64 KiB (it has %lld)", path,
			  (long long)st.st_size);
	cfg->snapshot_key = key;
	cfg->snapshot_key_len = (size_t)n;
}

/* The directory a snapshot will be written into must exist and be writable. */
static void check_target_dir(const char *flag, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	if (strlen(path) >= sizeof(dir))
		die_usage("%s: path too long", flag);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die_usage("%s %s: directory %s does not exist", flag, path, dir);
	if (access(dir, W_OK) < 0)
		die_usage("%s %s: directory %s is not writable", flag, path, dir);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die_usage("%s %s: is a directory", flag, path);
}

void cli_parse_run(int argc, char **argv, struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem = DEFAULT_MEM;
	cfg->cpus = 1;
	cfg->console = CONSOLE_STDIO;
	cfg->watchdog_action = ACTION_RESET; /* as QEMU */
	cfg->hb_action = ACTION_NONE;
	for (int i = 0; i < argc; i++) {
		char flag[32];
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				cfg->guest_argv = &argv[i + 1];
			break;
		}
		size_t fl = strcspn(a, "=");
		snprintf(flag, sizeof(flag), "%.*s", (int)(fl < 31 ? fl : 31), a);
		if (strcmp(flag, "--kernel") == 0) {
			cfg->kernel = option_value(argc, argv, &i, flag);
		} else if (strcmp(flag, "--initrd") == 0) {
			cfg->initrd = option_value(argc, argv, &i, flag);
		} else if (strcmp(flag, "--cmdline") == 0) {
			cfg->cmdline = option_value(argc, argv, &i, flag);
		} else if (strcmp(flag, "--mem") == 0) {
			const char *v = option_value(argc, argv, &i, flag);
			if (parse_size(v, &cfg->mem))
				die_usage("--mem %s: not a size (examples: 256M, 2G)", v);
		} else if (strcmp(flag, "--cpus") == 0) {
			cfg->cpus = parse_cpus(option_value(argc, argv, &i, flag));
		} else if (strcmp(flag, "--api") == 0) {
			cfg->api_path = option_value(argc, argv, &i, flag);
			if (!*cfg->api_path)
				die_usage("--api: empty socket path");
		} else if (strcmp(flag, "--console") == 0) {
			cli_parse_console(option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--disk") == 0) {
			cli_parse_disk((char *)option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--net") == 0) {
			cli_parse_net((char *)option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--seccomp") == 0) {
			cli_parse_seccomp(option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--watchdog-action") == 0) {
			parse_watchdog_action(option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--heartbeat") == 0) {
			parse_heartbeat(option_value(argc, argv, &i, flag), cfg);
		} else if (strcmp(flag, "--snapshot-on-ready") == 0) {
			cfg->snapshot_on_ready = nonempty(flag, option_value(argc, argv, &i, flag));
		} else if (strcmp(flag, "--dump-to") == 0) {
			cfg->dump_to = nonempty(flag, option_value(argc, argv, &i, flag));
		} else if (strcmp(flag, "--snapshot-key") == 0) {
			cli_load_key(nonempty(flag, option_value(argc, argv, &i, flag)), cfg);
		} else {
			die_usage("unknown option '%s' for vmm run (see vmm --help)", a);
		}
	}
	if (!cfg->kernel)
		die_usage("vmm run needs --kernel PATH");
	if ((cfg->watchdog_action == ACTION_DUMP || cfg->hb_action == ACTION_DUMP) && !cfg->dump_to)
		die_usage("action dump writes a snapshot: give --dump-to FILE");
	if (cfg->dump_to)
		check_target_dir("--dump-to", cfg->dump_to);
	if (cfg->snapshot_on_ready)
		check_target_dir("--snapshot-on-ready", cfg->snapshot_on_ready);
}
