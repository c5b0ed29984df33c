/*
 * `vmm restore FILE`: check the whole file and this host before any VM
 * exists, map guest memory from the file (copy-on-write, never written),
 * then rebuild the VM in KVM's order and run it.
 */
#include "../cli.h"
#include "../log.h"
#include "kvmstate.h"
#include "lazy.h"
#include "restore.h"
#include "snapshot.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const known_units[] = {
    "machine", "vm",	    "vcpu",	   "serial",	  "i8042",
    "ib700",   "heartbeat", "virtio-mmio", "blk-overlay", NULL,
};

static struct restore_opts {
	const char *file;
	enum verify_mode verify;
	struct vm_config cfg; /* what the user gave: api, console, disks, key, seccomp */
} O;

static void parse_args(int argc, char **argv)
{
	memset(&O, 0, sizeof(O));
	O.verify = VERIFY_DEFAULT;
	O.cfg.console = CONSOLE_STDIO;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		char flag[32];
		size_t fl = eq ? (size_t)(eq - a) : strlen(a);
		snprintf(flag, sizeof(flag), "%.*s", (int)(fl < 31 ? fl : 31), a);
#define VALUE()                                                                                    \
	(eq ? eq + 1 : (i + 1 < argc ? argv[++i] : (die_usage("%s needs a value", flag), "")))
		if (strcmp(a, "--") == 0) {
			O.cfg.guest_argv = &argv[i + 1]; /* may be empty: an empty line */
			break;
		} else if (a[0] != '-' || !a[1]) {
			if (O.file)
				die_usage("vmm restore takes one FILE ('%s' and '%s' given)",
					  O.file, a);
			O.file = a;
		} else if (strcmp(flag, "--verify") == 0) {
			const char *v = VALUE();
			if (verify_parse(v, &O.verify))
				die_usage("--verify %s: lazy, full or none", v);
		} else if (strcmp(flag, "--api") == 0) {
			O.cfg.api_path = VALUE();
			if (!*O.cfg.api_path)
				die_usage("--api: empty socket path");
		} else if (strcmp(flag, "--snapshot-key") == 0) {
			cli_load_key(VALUE(), &O.cfg);
		} else if (strcmp(flag, "--disk") == 0) {
			cli_parse_disk((char *)VALUE(), &O.cfg);
		} else if (strcmp(flag, "--console") == 0) {
			cli_parse_console(VALUE(), &O.cfg);
		} else if (strcmp(flag, "--seccomp") == 0) {
			cli_parse_seccomp(VALUE(), &O.cfg);
		} else if (strcmp(flag, "--net") == 0) {
			cli_parse_net((char *)VALUE(), &O.cfg);
		} else {
			die_usage("unknown option '%s' for vmm restore (see vmm --help)", a);
		}
#undef VALUE
	}
	if (!O.file)
		die_usage("vmm restore needs a snapshot FILE");
}

#define COMMAND_LINE_MAX 4000 /* fits the UART's receive buffer with room to spare */

/*
 * The guest command after "--", as one line of shell words for a guest whose
 * init waits for it on the console (vmm.cmd=console, guest/README.md): each
 * argument single-quoted, "'" written as '\''. "--" alone sends an empty
 * line (the guest runs the command it booted with).
 */
static char *command_line(char **argv)
{
	static char line[COMMAND_LINE_MAX + 8];
	size_t n = 0;
	for (char **a = argv; a && *a; a++) {
		for (const char *c = *a; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				die_usage(
				    "guest command argument '%s' contains a control character", *a);
		if (n + 4 * strlen(*a) + 4 > COMMAND_LINE_MAX)
			die_usage("the guest command is longer than %d bytes", COMMAND_LINE_MAX);
		if (a != argv)
			line[n++] = ' ';
		line[n++] = '\'';
		for (const char *c = *a; *c; c++) {
			if (*c == '\'') {
				memcpy(line + n, "'\\''", 4);
				n += 4;
			} else {
				line[n++] = *c;
			}
		}
		line[n++] = '\'';
	}
	line[n++] = '\n';
	line[n] = 0;
	return line;
}

/* Map the whole file copy-on-write; anything but a readable regular file is refused. */
const uint8_t *snap_map_file(const char *path, uint64_t *len, int *fd_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		die("%s: cannot open the snapshot: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		die("%s: is a directory, not a snapshot file", path);
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file (a device or pipe), not a snapshot file", path);
	if (st.st_size == 0)
		die("%s: the file is empty, not a snapshot", path);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		die("%s: cannot map the snapshot: %s", path, strerror(errno));
	*len = (uint64_t)st.st_size;
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return p;
}

/* Every unit is one vmm knows, or optional; every required one is there. */
static void check_units(const struct snap_file *f)
{
	for (uint32_t i = 0; i < f->nunits; i++) {
		const struct snap_unit *u = &f->units[i];
		int known = 0;
		for (int k = 0; known_units[k]; k++)
			known |= strcmp(u->name, known_units[k]) == 0;
		if (!known && !(u->flags & SNAP_UNIT_OPTIONAL))
			die("%s: unit '%s' (version %u) is unknown to this vmm and not optional",
			    O.file, u->name, u->version);
		if (!known)
			vmm_log("%s: skipping optional unit '%s' version %u", O.file, u->name,
				u->version);
	}
	if (!snap_find_unit(f, "machine", 0) || !snap_find_unit(f, "vm", 0))
		die("%s: the machine or vm unit is missing", O.file);
}

static void unit_version(const struct snap_unit *u, uint32_t want)
{
	if (u->version != want)
		die("%s: unit %s instance %u has version %u; this vmm reads version %u", O.file,
		    u->name, u->instance, u->version, want);
}

/* Machine configuration from the file, with the user's backends checked against it. */
static void take_machine(const struct snap_file *f, struct machine_unit *m, struct vm_config *cfg)
{
	char err[256];
	const struct snap_unit *u = snap_find_unit(f, "machine", 0);
	if (u->version < 1 || u->version > MACHINE_UNIT_VERSION)
		unit_version(u, MACHINE_UNIT_VERSION);
	if (machine_unit_decode(u->data, u->length, u->version, m, err, sizeof(err)))
		die("%s: %s", O.file, err);
	if (m->mem != f->mem_size || m->ncpus != f->ncpus)
		die("%s: the machine unit (%llu bytes, %u vCPUs) contradicts the header", O.file,
		    (unsigned long long)m->mem, m->ncpus);
	*cfg = O.cfg;
	cfg->mem = m->mem;
	cfg->cpus = (int)m->ncpus;
	cfg->watchdog_action = (enum vm_action)m->watchdog_action;
	cfg->hb_interval_ms = m->hb_interval_ms;
	cfg->hb_timeout_ms = m->hb_timeout_ms;
	cfg->hb_action = (enum vm_action)m->hb_action;
	if ((uint32_t)cfg->ndisks != m->ndisks)
		die_usage("%s holds a VM with %u disk%s: give as many --disk (%d given)", O.file,
			  m->ndisks, m->ndisks == 1 ? "" : "s", cfg->ndisks);
	if ((uint32_t)cfg->nnets != m->nnets)
		die_usage("%s holds a VM with %u network device%s: give as many --net (%d given)",
			  O.file, m->nnets, m->nnets == 1 ? "" : "s", cfg->nnets);
	if (cfg->watchdog_action == ACTION_DUMP || cfg->hb_action == ACTION_DUMP)
		die_usage(
		    "%s: its watchdog or heartbeat action is dump, which a restored VM cannot "
		    "do yet",
		    O.file);
}

/* Writes an ephemeral disk held at snapshot time go into this VM's own overlay. */
static void load_overlays(struct vm *vm, const struct snap_file *f, const struct machine_unit *m)
{
	for (uint32_t i = 0; i < m->ndisks; i++) {
		const struct snap_unit *u = snap_find_unit(f, "blk-overlay", i);
		if (!u)
			continue;
		unit_version(u, 1);
		if (!vm->blk[i].be.ephemeral)
			die_usage(
			    "%s: disk %u had writes in an ephemeral overlay when it was saved: "
			    "give --disk %s,ephemeral",
			    O.file, i, vm->blk[i].be.path);
		if (blk_overlay_load(&vm->blk[i].be, u->data, u->length))
			die("%s: the overlay unit of disk %u is malformed or does not fit", O.file,
			    i);
	}
}

static void check_disks(struct vm *vm, const struct machine_unit *m)
{
	for (uint32_t i = 0; i < m->ndisks; i++) {
		const struct blk_backend *be = &vm->blk[i].be;
		if (be->size != m->disks[i].size)
			die_usage("--disk %s: %llu bytes, the snapshot's disk %u had %llu",
				  be->path, (unsigned long long)be->size, i,
				  (unsigned long long)m->disks[i].size);
		if (be->ro != m->disks[i].ro)
			die_usage("--disk %s: the snapshot's disk %u was %s; give it the same way",
				  be->path, i, m->disks[i].ro ? "ro" : "writable");
	}
}

static void check_host(struct vm *vm, const struct snap_file *f, struct vcpu_state *vs)
{
	char vendor[13], err[256];
	unsigned a, b, c, d;
	__cpuid(0, a, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	if (strcmp(vendor, f->vendor) != 0)
		die("%s: incompatible host: the snapshot was taken on a %s CPU, this host is %s",
		    O.file, f->vendor, vendor);
	if ((int)f->ncpus > kvm_max_vcpus(vm))
		die("%s: incompatible host: %u vCPUs, this host's KVM allows %d", O.file, f->ncpus,
		    kvm_max_vcpus(vm));
	uint32_t caps, xsave;
	kvm_snapshot_caps(vm, &caps, &xsave);
	for (uint32_t i = 0; i < f->ncpus; i++)
		if (vcpu_state_compatible(vm, &vs[i], xsave, err, sizeof(err)))
			die("%s: vCPU %u: %s", O.file, i, err);
}

static void decode_vcpus(const struct snap_file *f, struct vcpu_state *vs, struct vm_state *vms)
{
	char err[256];
	for (uint32_t i = 0; i < f->ncpus; i++) {
		const struct snap_unit *u = snap_find_unit(f, "vcpu", i);
		if (!u)
			die("%s: the unit of vCPU %u is missing", O.file, i);
		unit_version(u, VCPU_UNIT_VERSION);
		if (vcpu_state_decode(u->data, u->length, &vs[i], err, sizeof(err)))
			die("%s: vCPU %u: %s", O.file, i, err);
	}
	const struct snap_unit *u = snap_find_unit(f, "vm", 0);
	unit_version(u, VM_UNIT_VERSION);
	if (vm_state_decode(u->data, u->length, vms, err, sizeof(err)))
		die("%s: %s", O.file, err);
}

static int load_device(void *ctx, const struct bus_range *r, uint32_t inst)
{
	const struct snap_file *f = ctx;
	const struct snap_unit *u = snap_find_unit(f, r->ops->name, inst);
	if (!u)
		die("%s: the unit of device %s instance %u is missing", O.file, r->ops->name, inst);
	unit_version(u, r->ops->version);
	struct unit_reader rd = {u->data, u->length, 0, 0};
	if (r->ops->load(r->dev, &rd, u->version))
		die("%s: the unit of device %s instance %u is malformed or impossible", O.file,
		    r->ops->name, inst);
	return 0;
}

/*
 * A chunk that is all hole in the file reads as zeros by definition: it
 * verifies by comparing its digest with that of zeros, without reading.
 */
static int hole_verifies(const struct snap_file *f, int fd, uint32_t i, const uint8_t *zero_digest)
{
	uint64_t start = f->mem_offset + (uint64_t)i * f->chunk_size;
	uint64_t end = start + f->chunk_size;
	if (end > f->mem_offset + f->mem_size)
		return 0; /* a short last chunk: just read it */
	off_t d = lseek(fd, (off_t)start, SEEK_DATA);
	if (d >= 0 && (uint64_t)d < end)
		return 0;
	if (d < 0 && errno != ENXIO)
		return 0;
	return digest_equal(zero_digest, f->digests + (uint64_t)i * DIGEST_LEN);
}

/* Chunk i read with pread (cheaper than faulting in the mapping page by page) and checked. */
static int chunk_verifies(const struct snap_file *f, int fd, uint32_t i, uint8_t *buf)
{
	uint64_t start = (uint64_t)i * f->chunk_size, len = f->mem_size - start, done = 0;
	if (len > f->chunk_size)
		len = f->chunk_size;
	while (done < len) {
		ssize_t r = pread(fd, buf + done, (size_t)(len - done),
				  (off_t)(f->mem_offset + start + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		done += (uint64_t)r;
	}
	uint8_t d[DIGEST_LEN];
	snap_chunk_digest(buf, (size_t)len, d);
	return digest_equal(d, f->digests + (uint64_t)i * DIGEST_LEN);
}

static void verify_all(const struct snap_file *f, int fd)
{
	uint64_t t0 = now_ns();
	uint8_t zero_digest[DIGEST_LEN];
	snap_zero_digest(f->chunk_size, zero_digest);
	uint8_t *buf = mmap(NULL, f->chunk_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("out of memory for a chunk buffer");
	for (uint32_t i = 0; i < f->chunk_count; i++)
		if (!hole_verifies(f, fd, i, zero_digest) && !chunk_verifies(f, fd, i, buf))
			die("%s: memory chunk %u (guest RAM bytes 0x%llx..0x%llx) does not match "
			    "its digest: the file was altered",
			    O.file, i, (unsigned long long)i * f->chunk_size,
			    (unsigned long long)((uint64_t)(i + 1) * f->chunk_size - 1));
	munmap(buf, f->chunk_size);
	vmm_log("restore: verified %u memory chunks in %.1f ms", f->chunk_count,
		(double)(now_ns() - t0) / 1e6);
}

static void build(struct vm *vm, const struct snap_file *f, struct vcpu_state *vs,
		  const struct vm_state *vms)
{
	char err[256];
	kvm_create_vm(vm); /* memory slots point into the file's private mapping */
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_open(vm, i);
	for (int i = 0; i < vm->ncpus; i++)
		if (vcpu_state_restore(&vm->vcpus[i], &vs[i], err, sizeof(err)))
			die("%s: %s", O.file, err);
	if (vm_state_restore(vm, vms, err, sizeof(err)))
		die("%s: %s", O.file, err);
	/* Devices again, now that the irqchip is back: their interrupt lines reach KVM. */
	for_each_device(vm, load_device, (void *)f);
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_bind(vm->virtio[i]);
	heartbeat_new_session(&vm->heartbeat);
	vm->restored = 1;
}

int cmd_restore(int argc, char **argv, struct vm *vm)
{
	static struct vm_config cfg;
	struct snap_file f;
	struct machine_unit m;
	char err[512];
	vmm_block_signals();
	parse_args(argc, argv);
	seccomp_setup(O.cfg.seccomp);
	uint64_t len;
	int fd;
	const uint8_t *file = snap_map_file(O.file, &len, &fd);
	if (snap_parse(file, len, O.cfg.snapshot_key, O.cfg.snapshot_key_len, 0, &f, err,
		       sizeof(err)))
		die("%s: %s", O.file, err);
	check_units(&f);
	take_machine(&f, &m, &cfg);
	const char *cmd = cfg.guest_argv ? command_line(cfg.guest_argv) : NULL;
	struct vcpu_state *vs = calloc(f.ncpus, sizeof(*vs));
	struct vm_state vms;
	if (!vs)
		die("out of memory");
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_status = -1;
	decode_vcpus(&f, vs, &vms);
	check_host(vm, &f, vs);
	vm->cfg = &cfg;
	vm->ncpus = cfg.cpus;
	mem_layout(&vm->mem, cfg.mem);
	vm->mem.host = (uint8_t *)file + f.mem_offset;
	if (O.verify == VERIFY_LAZY && lazy_setup(vm, &f, fd, err, sizeof(err))) {
		vmm_log("--verify lazy is not available here (%s): checking every chunk now", err);
		O.verify = VERIFY_FULL;
	}
	if (O.verify == VERIFY_FULL)
		verify_all(&f, fd);
	if (O.verify != VERIFY_LAZY)
		close(fd);
	vmm_open_disks(vm, &cfg);
	vmm_open_nets(vm, &cfg);
	check_disks(vm, &m);
	load_overlays(vm, &f, &m);
	int console_fd = vmm_open_console(&cfg);
	vmm_common_setup(vm);
	vmm_setup_devices(vm, console_fd);
	/* Every device unit is checked before the VM exists. */
	for_each_device(vm, load_device, &f);
	if (O.verify == VERIFY_LAZY)
		lazy_start(); /* KVM itself touches guest RAM while state is restored */
	build(vm, &f, vs, &vms);
	if (cmd)
		serial_push_input(&vm->serial, (const uint8_t *)cmd, (uint32_t)strlen(cmd));
	vmm_log("restore: %s ready in %.1f ms, of which KVM's memory slot set-up %.1f ms "
		"(session %016llx)",
		O.file, (double)since_start_ns() / 1e6, (double)vm->slot_ns / 1e6,
		(unsigned long long)vm->heartbeat.session);
	vmm_run(vm);
}
