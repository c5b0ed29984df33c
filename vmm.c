/*
 * vmm: command dispatch and the VM lifecycle of `vmm run`: check everything
 * the user gave, build the machine, start the vCPUs, run the event loop.
 */
#include "api.h"
#include "boot/bootparams.h"
#include "boot/layout.h"
#include "cli.h"
#include "eventloop.h"
#include "log.h"
#include "devices/virtio/rng.h"
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define VMM_VERSION "0.1.0"
#define COM1_PORT 0x3f8
#define COM1_IRQ 4

static const char default_cmdline[] =
    "console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp quiet";

static struct vm the_vm;

/* ---- machine hooks: what devices may ask of the VM ---- */

void vm_request_exit(struct vm *vm, int status, const char *why)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->exit_status < 0) {
		vm->exit_status = status;
		snprintf(vm->exit_why, sizeof(vm->exit_why), "%s", why);
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	uint64_t one = 1;
	ssize_t r = write(vm->notify_fd, &one, sizeof(one));
	(void)r;
}

void vm_guest_exit(struct vm *vm, int status, const char *why)
{
	pthread_mutex_lock(&vm->lock);
	int watchdog = vm->shutdown_pending;
	pthread_mutex_unlock(&vm->lock);
	/* However a guest the watchdog asked to shut down goes, the watchdog ended it. */
	vm_request_exit(vm, watchdog ? EXIT_WATCHDOG : status, why);
}

static void hook_power_off(void *ctx, int status, const char *why)
{
	vm_guest_exit(ctx, status, why);
}

static void hook_reset(void *ctx, const char *why)
{
	vm_guest_exit(ctx, 0, why);
}

static void hook_irq_line(void *ctx, uint32_t irq, int level)
{
	struct vm *vm = ctx;
	if (vm->vm_fd < 0)
		return; /* a restore checking device units before the VM exists */
	struct kvm_irq_level l = {.irq = irq, .level = (uint32_t)level};
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		vmm_log("KVM_IRQ_LINE irq %u level %d failed: %s", irq, level, strerror(errno));
}

static void hook_event(void *ctx, const char *name, const char *fields)
{
	vm_event(ctx, name, fields);
}

static void hook_guest_ready(void *ctx)
{
	char f[48];
	struct vm *vm = ctx;
	snprintf(f, sizeof(f), "\"ms\":%.3f", (double)since_start_ns() / 1e6);
	if (vm->cfg->snapshot_on_ready) {
		/* Dump right here: this vCPU runs no further guest instruction first. */
		vm_pause_here(vm);
		pthread_mutex_lock(&vm->lock);
		vm->ready_dump = 1;
		pthread_mutex_unlock(&vm->lock);
	}
	vm_event(vm, "guest-ready", f);
}

static uint64_t hook_guest_time(void *ctx)
{
	return vm_guest_time_ns(ctx);
}

static int hook_ioeventfd(void *ctx, uint64_t addr, uint32_t datamatch, int fd)
{
	struct vm *vm = ctx;
	struct kvm_ioeventfd io = {.datamatch = datamatch,
				   .addr = addr,
				   .len = 4,
				   .fd = fd,
				   .flags = KVM_IOEVENTFD_FLAG_DATAMATCH};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io);
}

static int hook_irqfd(void *ctx, uint32_t gsi, int fd)
{
	struct vm *vm = ctx;
	struct kvm_irqfd irq = {.fd = (uint32_t)fd, .gsi = gsi};
	return ioctl(vm->vm_fd, KVM_IRQFD, &irq);
}

static void hook_timers_changed(void *ctx)
{
	struct vm *vm = ctx;
	uint64_t one = 1;
	ssize_t r = write(vm->notify_fd, &one, sizeof(one));
	(void)r;
}

/* ---- input checks (all before KVM is touched) ---- */

static const uint8_t *map_file(const char *flag, const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_usage("%s %s: %s", flag, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die_usage("%s %s: not a regular file", flag, path);
	if (st.st_size == 0)
		die_usage("%s %s: the file is empty", flag, path);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die_usage("%s %s: cannot map: %s", flag, path, strerror(errno));
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static int open_initrd(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_usage("--initrd %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die_usage("--initrd %s: not a regular file", path);
	if (st.st_size == 0)
		die_usage("--initrd %s: the file is empty", path);
	*size = (uint64_t)st.st_size;
	return fd;
}

static void check_mem(uint64_t mem)
{
	struct sysinfo si;
	if (mem < BOOT_MIN_MEM)
		die_usage("--mem %llu bytes is below the minimum of %llu MiB (sizes take K/M/G "
			  "suffixes: 256M)",
			  (unsigned long long)mem, BOOT_MIN_MEM >> 20);
	if (mem & 0xfff)
		die_usage("--mem %llu bytes is not a multiple of 4 KiB", (unsigned long long)mem);
	if (sysinfo(&si) == 0) {
		uint64_t host = (uint64_t)si.totalram * si.mem_unit;
		if (mem > host)
			die_usage("--mem %llu MiB is more than this host's %llu MiB of RAM",
				  (unsigned long long)(mem >> 20),
				  (unsigned long long)(host >> 20));
	}
}

/* A guest argument must survive the kernel's quoting: no '"', no controls. */
static void check_guest_arg(const char *a)
{
	for (const char *c = a; *c; c++)
		if (*c == '"' || (unsigned char)*c < 0x20 || *c == 0x7f)
			die_usage("guest command argument '%s' contains a double quote or control "
				  "character, which the kernel command line cannot carry",
				  a);
}

/* Virtio devices: disks in order, network devices in order, then the entropy device. */
static int virtio_count(const struct vm_config *cfg)
{
	return cfg->ndisks + cfg->nnets + 1;
}

static char *build_cmdline(const struct vm_config *cfg, const struct kernel_image *img)
{
	const char *base = cfg->cmdline ? cfg->cmdline : default_cmdline;
	size_t cap = BOOT_CMDLINE_MAX * 2, n = 0;
	char *s = malloc(cap);
	if (!s)
		die("out of memory");
	/* Announced first, so a user's own "--" cannot swallow them. */
	for (int i = 0; i < virtio_count(cfg); i++)
		n += (size_t)snprintf(s + n, cap - n, "virtio_mmio.device=4K@0x%llx:%d ",
				      VIRTIO_MMIO_BASE + (unsigned long long)i * VIRTIO_MMIO_SIZE,
				      VIRTIO_IRQ_BASE + i);
	n += (size_t)snprintf(s + n, cap - n, "%s", base);
	if (cfg->guest_argv) {
		if (strstr(base, " -- ") || strncmp(base, "-- ", 3) == 0)
			die_usage("--cmdline already has '--' and a guest command was given too");
		n += (size_t)snprintf(s + n, n < cap ? cap - n : 0, " --");
		int argc = 0;
		while (cfg->guest_argv[argc])
			argc++;
		/* Linux keeps 32 init arguments, init's own name included, and panics past that. */
		if (argc > 31)
			die_usage(
			    "the guest command has %d arguments; the kernel passes at most 31",
			    argc);
		for (char **a = cfg->guest_argv; *a; a++) {
			check_guest_arg(*a);
			n += (size_t)snprintf(s + n, n < cap ? cap - n : 0, " \"%s\"", *a);
		}
	}
	if (n > img->cmdline_max)
		die_usage("kernel command line is %zu bytes, the kernel takes at most %u", n,
			  img->cmdline_max);
	return s;
}

int vmm_open_console(const struct vm_config *cfg)
{
	if (cfg->console == CONSOLE_NONE)
		return -1;
	if (cfg->console == CONSOLE_STDIO)
		return 1;
	int fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die_usage("--console %s: %s", cfg->console_path, strerror(errno));
	return fd;
}

/* ---- building the machine ---- */

static void load_initrd(struct vm *vm, int fd, uint64_t gpa, uint64_t size)
{
	uint8_t *dst = gpa_to_hva(&vm->mem, gpa, size);
	uint64_t done = 0;
	while (done < size) {
		ssize_t r = pread(fd, dst + done, size - done, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("--initrd: read failed at byte %llu of %llu: %s",
			    (unsigned long long)done, (unsigned long long)size,
			    r < 0 ? strerror(errno) : "file shrank");
		done += (uint64_t)r;
	}
}

void vmm_setup_devices(struct vm *vm, int console_fd)
{
	vm->pio.name = "pio";
	vm->pio.unmapped_read = 0xff;
	vm->mmio.name = "mmio";
	vm->mmio.unmapped_read = 0x00;
	int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake < 0)
		die_errno("eventfd failed");
	serial_init(&vm->serial, &vm->hooks, COM1_IRQ, console_fd, wake);
	i8042_init(&vm->i8042, &vm->hooks);
	ib700_init(&vm->ib700, &vm->hooks);
	heartbeat_init(&vm->heartbeat, &vm->hooks, vm->cfg->hb_interval_ms, vm->cfg->hb_timeout_ms);
	if (bus_register(&vm->pio, COM1_PORT, 8, &vm->serial, &serial_ops) ||
	    bus_register(&vm->pio, I8042_BASE, I8042_SPAN, &vm->i8042, &i8042_ops) ||
	    bus_register(&vm->pio, IB700_BASE, IB700_SPAN, &vm->ib700, &ib700_ops) ||
	    bus_register(&vm->mmio, HEARTBEAT_BASE, HEARTBEAT_SIZE, &vm->heartbeat, &heartbeat_ops))
		die("device address ranges overlap");
	for (int i = 0; i < vm->cfg->ndisks; i++) {
		struct virtio_blk *b = &vm->blk[i];
		virtio_init(&b->dev, &virtio_blk_ops, NULL, blk_features(&b->be), &vm->hooks,
			    &vm->mem, VIRTIO_MMIO_BASE + (uint64_t)vm->nvirtio * VIRTIO_MMIO_SIZE,
			    VIRTIO_IRQ_BASE + (uint32_t)vm->nvirtio, THREAD_VIRTIO_BLK);
		vm->virtio[vm->nvirtio++] = &b->dev;
	}
	for (int i = 0; i < vm->cfg->nnets; i++) {
		struct virtio_net *n = &vm->net[i];
		virtio_init(&n->dev, &virtio_net_ops, NULL, n->be.features, &vm->hooks, &vm->mem,
			    VIRTIO_MMIO_BASE + (uint64_t)vm->nvirtio * VIRTIO_MMIO_SIZE,
			    VIRTIO_IRQ_BASE + (uint32_t)vm->nvirtio, THREAD_VIRTIO_NET);
		virtio_watch_backend(&n->dev, n->be.fd);
		vm->virtio[vm->nvirtio++] = &n->dev;
	}
	virtio_init(&vm->rng, &virtio_rng_ops, NULL, 0, &vm->hooks, &vm->mem,
		    VIRTIO_MMIO_BASE + (uint64_t)vm->nvirtio * VIRTIO_MMIO_SIZE,
		    VIRTIO_IRQ_BASE + (uint32_t)vm->nvirtio, THREAD_VIRTIO_RNG);
	vm->virtio[vm->nvirtio++] = &vm->rng;
	for (int i = 0; i < vm->nvirtio; i++)
		if (bus_register(&vm->mmio, vm->virtio[i]->base, VIRTIO_MMIO_SIZE, vm->virtio[i],
				 &virtio_mmio_ops))
			die("virtio device ranges overlap");
}

/* Open every --disk before anything starts; two names for one file are refused. */
void vmm_open_disks(struct vm *vm, const struct vm_config *cfg)
{
	for (int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *dk = &cfg->disks[i];
		blk_open(&vm->blk[i].be, dk->path, dk->ro, dk->ephemeral);
		struct stat a, b;
		fstat(vm->blk[i].be.fd, &a);
		for (int k = 0; k < i; k++)
			if (fstat(vm->blk[k].be.fd, &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino)
				die_usage("--disk %s: the same file as --disk %s", dk->path,
					  cfg->disks[k].path);
	}
}

/* Open every --net's tap before anything starts (exit 2 naming the tap if refused). */
void vmm_open_nets(struct vm *vm, const struct vm_config *cfg)
{
	for (int i = 0; i < cfg->nnets; i++) {
		const struct net_config *nc = &cfg->nets[i];
		net_open(&vm->net[i], nc->tap, nc->has_mac ? nc->mac : NULL);
		for (int k = 0; k < i; k++)
			if (memcmp(vm->net[k].be.mac, vm->net[i].be.mac, 6) == 0)
				die_usage("--net tap=%s: the same MAC as tap=%s (give mac=)",
					  nc->tap, cfg->nets[k].tap);
	}
}

static void write_boot_data(struct vm *vm)
{
	const struct boot_plan *b = &vm->boot;
	cmdline_write(&vm->mem, b->cmdline);
	gdt_write(&vm->mem, b->img.mode);
	mptable_write(&vm->mem, vm->ncpus);
	if (b->img.mode == ENTRY_LONG64) {
		pagetables_write(&vm->mem);
		bootparams_write(&vm->mem, &b->img, b->initrd_gpa, b->initrd_size);
	} else {
		pvh_write(&vm->mem, b->initrd_gpa, b->initrd_size);
	}
}

static void reset_devices(const struct bus *b)
{
	for (int i = 0; i < b->nranges; i++)
		b->ranges[i].ops->reset(b->ranges[i].dev);
}

/* Before RAM is discarded: a device reset waits for requests in flight, which
 * would otherwise land in the fresh machine's memory. */
void machine_reset_devices(struct vm *vm)
{
	reset_devices(&vm->pio);
	reset_devices(&vm->mmio);
}

void machine_build(struct vm *vm, int rebuild)
{
	struct boot_plan *b = &vm->boot;
	kvm_create_vm(vm);
	kernel_load(&b->img, b->kernel, &vm->mem);
	if (b->initrd_fd >= 0)
		load_initrd(vm, b->initrd_fd, b->initrd_gpa, b->initrd_size);
	write_boot_data(vm);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_create(vm, i);
	vcpu_set_boot_state(&vm->vcpus[0], &b->img);
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_bind(vm->virtio[i]);
	if (rebuild)
		heartbeat_new_session(&vm->heartbeat);
}

void vmm_block_signals(void)
{
	sigset_t set;
	termination_signals(&set);
	sigaddset(&set, SIGUSR1); /* the vCPU kick: only vCPU threads take it */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* With VMM_STATS=1 in the environment: peak RSS, guest RAM resident, overhead. */
static void print_stats(struct vm *vm)
{
	const char *env = getenv("VMM_STATS");
	if (!env || strcmp(env, "1") != 0 || !vm->mem.host)
		return;
	size_t pages = (size_t)(vm->mem.size >> 12), resident = 0;
	unsigned char *vec = malloc(pages);
	if (vec && mincore(vm->mem.host, vm->mem.size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
	free(vec);
	/* VmHWM, not getrusage(): ru_maxrss keeps the pre-exec process's peak. */
	unsigned long long rss = 0, guest = resident * 4ull;
	char buf[2048];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *hwm = strstr(buf, "VmHWM:");
	if (hwm)
		rss = strtoull(hwm + 6, NULL, 10);
	vmm_log("stats: peak_rss_kib=%llu guest_resident_kib=%llu overhead_kib=%llu", rss, guest,
		rss > guest ? rss - guest : 0);
}

static int teardown_helper(void *arg)
{
	(void)arg;
	for (int fd = 0; fd < 1024; fd++)
		close(fd); /* the last references to the VM: its teardown runs here */
	return 0;
}

/*
 * Leave with status at once. Destroying a VM with an in-kernel irqchip takes
 * the kernel 15-25 ms, and process exit waits for it; the caller waits for
 * nothing of it, so a helper that shares our memory and descriptors (no copy
 * is made) holds the last references and does that teardown after we are
 * gone. VMM_SYNC_TEARDOWN=1 keeps the old behaviour.
 */
static int fd_limit = 1024; /* RLIMIT_NOFILE as harden_limits() left it */

static int is_kvm_fd(int fd)
{
	if (fd == the_vm.kvm_fd || fd == the_vm.vm_fd)
		return 1;
	for (int i = 0; i < the_vm.ncpus; i++)
		if (fd == the_vm.vcpus[i].fd)
			return 1;
	return 0;
}

static void __attribute__((noreturn)) fast_exit(int status)
{
	static char stack[16384] __attribute__((aligned(16)));
	const char *sync = getenv("VMM_SYNC_TEARDOWN");
	if ((sync && strcmp(sync, "1") == 0) || the_vm.vm_fd < 0)
		_exit(status);
	/*
	 * Everything but KVM is released here and now: disk images (and their
	 * locks), the console, sockets. Only the VM's own descriptors go on to
	 * the helper, so nothing the caller can see outlives vmm.
	 */
	for (int fd = 0; fd < fd_limit; fd++)
		if (!is_kvm_fd(fd))
			close(fd);
	clone(teardown_helper, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_FS, NULL);
	_exit(status);
}

/*
 * Cheap sandbox hygiene once everything is open: no core dumps (they would
 * hold guest memory), and room for only as many more descriptors as the
 * event loop can need (API clients, a rebuilt VM on reset).
 */
static void harden_limits(void)
{
	struct rlimit core = {0, 0};
	setrlimit(RLIMIT_CORE, &core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	madvise(the_vm.mem.host, the_vm.mem.size, MADV_DONTDUMP);
	int top = dup(0);
	if (top < 0)
		top = 64;
	else
		close(top);
	rlim_t n = (rlim_t)top + 32 + (rlim_t)the_vm.ncpus;
	struct rlimit files = {n, n};
	if (setrlimit(RLIMIT_NOFILE, &files) == 0)
		fd_limit = (int)n;
}

/* Descriptors inherited from whoever started us are not ours to keep. */
static void close_inherited_fds(void)
{
	if (syscall(SYS_close_range, 3, ~0u, 0) == 0)
		return;
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm *vm = &the_vm;
	struct boot_plan *b = &vm->boot;
	char err[256];

	vmm_block_signals();
	cli_parse_run(argc, argv, &cfg);
	seccomp_setup(cfg.seccomp);
	b->kernel = map_file("--kernel", cfg.kernel, &b->kernel_len);
	if (kernel_probe(b->kernel, b->kernel_len, &b->img, err, sizeof(err)))
		die_usage("--kernel %s: %s", cfg.kernel, err);
	b->initrd_fd = cfg.initrd ? open_initrd(cfg.initrd, &b->initrd_size) : -1;
	vmm_open_disks(vm, &cfg);
	vmm_open_nets(vm, &cfg);
	check_mem(cfg.mem);
	vm->cfg = &cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_status = -1;
	mem_layout(&vm->mem, cfg.mem);
	if (kernel_plan_fit(&b->img, &vm->mem, b->initrd_size, &b->initrd_gpa, err, sizeof(err)))
		die_usage("%s", err);
	b->cmdline = build_cmdline(&cfg, &b->img);
	int max = kvm_max_vcpus(vm);
	if (cfg.cpus > max)
		die_usage("--cpus %d: this host's KVM allows at most %d", cfg.cpus, max);
	vm->ncpus = cfg.cpus;
	int console_fd = vmm_open_console(&cfg);

	vmm_common_setup(vm);
	vmm_setup_devices(vm, console_fd);
	machine_build(vm, 0);
	vmm_run(vm);
}

void vmm_common_setup(struct vm *vm)
{
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->notify_fd < 0)
		die_errno("eventfd failed");
	vm->hooks = (struct machine_hooks){vm,
					   hook_power_off,
					   hook_reset,
					   hook_irq_line,
					   hook_event,
					   hook_guest_ready,
					   hook_guest_time,
					   hook_timers_changed,
					   hook_ioeventfd,
					   hook_irqfd};
	loop_setup(vm);
}

void vmm_run(struct vm *vm)
{
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_restart(vm->virtio[i]);
	vcpus_start(vm);
	loop_prepare(vm);
	harden_limits();
	seccomp_enter(THREAD_MAIN);
	int status = loop_run(vm);
	print_stats(vm);
	fast_exit(status);
}

int main(int argc, char **argv)
{
	log_init();
	close_inherited_fds();
	if (argc < 2) {
		cli_usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(cmd, "ctl") == 0)
		return ctl_main(argc - 2, argv + 2);
	if (strcmp(cmd, "restore") == 0)
		return cmd_restore(argc - 2, argv + 2, &the_vm);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 2, argv + 2);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	}
	die_usage("unknown command '%s' (run, restore, inspect or ctl; see vmm --help)", cmd);
}
