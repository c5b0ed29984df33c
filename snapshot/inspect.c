/* `vmm inspect FILE`: header, units, memory extents, and whether it all verifies. */
#include "../cli.h"
#include "../log.h"
#include "format.h"
#include "restore.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_header(const struct snap_file *f)
{
	printf("format      version %u, %s\n", f->version,
	       f->flags & SNAP_F_HMAC ? "signed (HMAC-SHA-256)" : "unsigned");
	time_t t = (time_t)(f->created_ns / 1000000000ull);
	char when[64];
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	printf("created     %s\n", when);
	uint32_t s = f->signature;
	uint32_t family = ((s >> 8) & 0xf) + (((s >> 8) & 0xf) == 0xf ? (s >> 20) & 0xff : 0);
	uint32_t model = ((s >> 4) & 0xf) | (((s >> 16) & 0xf) << 4);
	printf("host cpu    %s family 0x%x model 0x%x stepping %u, TSC %u kHz\n", f->vendor, family,
	       model, s & 0xf, f->tsc_khz);
	for (int i = 0; i < SNAP_NFEAT; i++)
		printf("            %-36s 0x%08x\n", snap_feature_leaves[i].name, f->features[i]);
	printf("kvm         caps 0x%x, XSAVE %u bytes\n", f->kvm_caps, f->xsave_size);
	printf("machine     %u vCPU%s, %llu MiB RAM\n", f->ncpus, f->ncpus == 1 ? "" : "s",
	       (unsigned long long)(f->mem_size >> 20));
}

static void print_units(const struct snap_file *f)
{
	printf("units       %u\n", f->nunits);
	for (uint32_t i = 0; i < f->nunits; i++) {
		const struct snap_unit *u = &f->units[i];
		printf("  %-16s instance %-3u version %-3u %8u bytes%s\n", u->name, u->instance,
		       u->version, u->length, u->flags & SNAP_UNIT_OPTIONAL ? "  optional" : "");
	}
}

/* Data extents of the memory area (holes are all-zero pages). */
static uint64_t print_extents(const struct snap_file *f, int fd)
{
	uint64_t end = f->mem_offset + f->mem_size, pos = f->mem_offset, data = 0;
	int shown = 0;
	printf("memory      %u region%s, %u chunks of %u KiB\n", f->nregions,
	       f->nregions == 1 ? "" : "s", f->chunk_count, f->chunk_size >> 10);
	for (uint32_t i = 0; i < f->nregions; i++)
		printf("  region %u  guest 0x%llx..0x%llx at file offset 0x%llx\n", i,
		       (unsigned long long)f->regions[i].gpa,
		       (unsigned long long)(f->regions[i].gpa + f->regions[i].size - 1),
		       (unsigned long long)f->regions[i].offset);
	while (pos < end) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d < 0 || (uint64_t)d >= end)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		uint64_t he = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
		data += he - (uint64_t)d;
		if (shown++ < 32)
			printf("  data      file 0x%llx..0x%llx (%llu KiB)\n",
			       (unsigned long long)d, (unsigned long long)(he - 1),
			       (unsigned long long)((he - (uint64_t)d) >> 10));
		pos = he;
	}
	if (shown > 32)
		printf("  ... %d more extents\n", shown - 32);
	printf("  %llu MiB of %llu MiB hold data\n", (unsigned long long)(data >> 20),
	       (unsigned long long)(f->mem_size >> 20));
	return data;
}

int cmd_inspect(int argc, char **argv)
{
	struct vm_config cfg;
	const char *file = NULL;
	memset(&cfg, 0, sizeof(cfg));
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--snapshot-key", 14) == 0) {
			const char *v = argv[i][14] == '=' ? argv[i] + 15
					: i + 1 < argc	   ? argv[++i]
							   : NULL;
			if (!v)
				die_usage("--snapshot-key needs a value");
			cli_load_key(v, &cfg);
		} else if (argv[i][0] == '-' || file) {
			die_usage("usage: vmm inspect FILE [--snapshot-key KEYFILE]");
		} else {
			file = argv[i];
		}
	}
	if (!file)
		die_usage("usage: vmm inspect FILE [--snapshot-key KEYFILE]");
	uint64_t len;
	int fd;
	const uint8_t *buf = snap_map_file(file, &len, &fd);
	struct snap_file f;
	char err[512];
	if (snap_parse(buf, len, cfg.snapshot_key, cfg.snapshot_key_len, SNAP_PARSE_UNSIGNED_OK, &f,
		       err, sizeof(err)))
		die("%s: %s", file, err);
	print_header(&f);
	print_units(&f);
	print_extents(&f, fd);
	uint32_t bad = 0, first = 0;
	for (uint32_t i = 0; i < f.chunk_count; i++)
		if (!snap_verify_chunk(&f, i, buf + f.mem_offset) && !bad++)
			first = i;
	printf("integrity   hash ok; HMAC %s; memory %s\n",
	       f.hmac_checked	       ? "ok"
	       : f.flags & SNAP_F_HMAC ? "NOT CHECKED (no --snapshot-key)"
				       : "none",
	       bad ? "BAD" : "ok");
	if (bad)
		printf("            %u chunk%s do not match, the first is chunk %u\n", bad,
		       bad == 1 ? "" : "s", first);
	fflush(stdout);
	snap_free(&f);
	return bad || ((f.flags & SNAP_F_HMAC) && !f.hmac_checked) ? EXIT_VMM_FAILED : 0;
}
