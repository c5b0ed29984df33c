/* Kernel probing and placement: bzImage, ELF64, ELF32, PVH notes, bad images. */
#include "../../boot/layout.h"
#include "../../boot/loader.h"
#include "check.h"
#include "images.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[256];
static struct kernel_image img;

TEST(bzimage_ok)
{
	size_t len;
	uint8_t *b = make_bzimage(0x10000, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) == 0);
	CHECK_EQ(img.kind, KERNEL_BZIMAGE);
	CHECK_EQ(img.mode, ENTRY_LONG64);
	CHECK_EQ(img.entry, 0x100200);
	CHECK_EQ(img.nseg, 1);
	CHECK_EQ(img.seg[0].file_off, 5 * 512);
	CHECK_EQ(img.seg[0].file_size, 0x10000);
	CHECK_EQ(img.seg[0].gpa, 0x100000);
	CHECK_EQ(img.load_end, 0x100000 + 0x30000);
	CHECK_EQ(img.cmdline_max, 2047);
	CHECK_EQ(img.setup_hdr_len, 0x26c - 0x1f1);
	free(b);
}

TEST(bzimage_refusals)
{
	size_t len;
	uint8_t *b = make_bzimage(0x10000, &len);
	CHECK(kernel_probe(b, len - 1, &img, err, sizeof(err)) < 0); /* truncated payload */
	CHECK(strstr(err, "truncated"));
	w16(b + 0x206, 0x020b); /* 2.11: no 64-bit entry promise */
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	w16(b + 0x206, 0x020f);
	b[0x236] = 0;
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	b[0x236] = 1;
	w16(b + 0x1fe, 0x1234);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	w16(b + 0x1fe, 0xaa55);
	CHECK(kernel_probe(b, 0x300, &img, err, sizeof(err)) < 0); /* header cut */
	CHECK(kernel_probe(b, 0x100, &img, err, sizeof(err)) < 0);
	CHECK(strstr(err, "too short"));
	free(b);
	uint8_t junk[4096] = {1, 2, 3};
	CHECK(kernel_probe(junk, sizeof(junk), &img, err, sizeof(err)) < 0);
	CHECK(strstr(err, "not a kernel"));
}

TEST(elf64_entry_and_pvh)
{
	size_t len;
	uint8_t *b = make_elf(1, 0x200000, 0x3000, 0x5000, 0x200010, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) == 0);
	CHECK_EQ(img.kind, KERNEL_ELF64);
	CHECK_EQ(img.mode, ENTRY_LONG64);
	CHECK_EQ(img.entry, 0x200010);
	CHECK_EQ(img.load_end, 0x205000);
	free(b);
	b = make_elf(1, 0x1000000, 0x3000, 0x3000, 0xffffffff81000000ull, 1, 0x1000100, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) == 0);
	CHECK_EQ(img.kind, KERNEL_ELF_PVH);
	CHECK_EQ(img.mode, ENTRY_PROT32);
	CHECK_EQ(img.entry, 0x1000100);
	free(b);
	b = make_elf(0, 0x100000, 0x100, 0x200, 0x100000, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) == 0);
	CHECK_EQ(img.kind, KERNEL_ELF32);
	CHECK_EQ(img.mode, ENTRY_PROT32);
	free(b);
}

TEST(elf_refusals)
{
	size_t len;
	uint8_t *b = make_elf(1, 0x80000, 0x100, 0x100, 0x80000, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0); /* below 1 MiB */
	free(b);
	b = make_elf(1, 0x200000, 0x100, 0x100, 0x900000, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0); /* entry outside */
	CHECK(strstr(err, "entry"));
	free(b);
	b = make_elf(1, 0x200000, 0x100, 0x80, 0x200000, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0); /* filesz > memsz */
	free(b);
	b = make_elf(1, 0x200000, 0x100, 0x100, 0x200000, 0, 0, &len);
	CHECK(kernel_probe(b, len - 1, &img, err, sizeof(err)) < 0); /* truncated */
	CHECK(strstr(err, "truncated"));
	w16(b + 56, 1000); /* absurd phnum */
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	w16(b + 56, 1);
	w16(b + 18, 40); /* ARM */
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	w16(b + 18, 62);
	w64(b + 32, ~0ull - 8); /* phoff wraps */
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	free(b);
	/* A segment whose paddr + memsz wraps. */
	b = make_elf(1, 0xfffffffffffff000ull, 0x100, 0x2000, 0xfffffffffffff000ull, 0, 0, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) < 0);
	free(b);
}

TEST(plan_fit_initrd)
{
	struct guest_mem m;
	size_t len;
	uint64_t at;
	mem_layout(&m, 64ull << 20);
	uint8_t *b = make_bzimage(0x10000, &len);
	kernel_probe(b, len, &img, err, sizeof(err));
	CHECK(kernel_plan_fit(&img, &m, 0, &at, err, sizeof(err)) == 0);
	CHECK_EQ(at, 0);
	CHECK(kernel_plan_fit(&img, &m, 12345, &at, err, sizeof(err)) == 0);
	CHECK_EQ(at, ((64ull << 20) - 12345) & ~0xfffull);
	CHECK(kernel_plan_fit(&img, &m, 64ull << 20, &at, err, sizeof(err)) < 0);
	CHECK(strstr(err, "does not fit"));
	img.initrd_max = 0x1ffffff; /* 32 MiB cap */
	CHECK(kernel_plan_fit(&img, &m, 4096, &at, err, sizeof(err)) == 0);
	CHECK_EQ(at, 0x2000000 - 4096);
	free(b);
	b = make_elf(1, 0x4000000, 0x100, 0x100000, 0x4000000, 0, 0, &len);
	kernel_probe(b, len, &img, err, sizeof(err));
	CHECK(kernel_plan_fit(&img, &m, 0, &at, err, sizeof(err)) < 0); /* beyond RAM */
	CHECK(strstr(err, "--mem"));
	free(b);
}

TEST(mutations_never_crash)
{
	/* Cheap in-test fuzzing; the libFuzzer target goes further. */
	size_t len;
	uint8_t *imgs[3];
	size_t lens[3];
	imgs[0] = make_bzimage(0x2000, &lens[0]);
	imgs[1] = make_elf(1, 0x1000000, 0x800, 0x1000, 0x1000000, 1, 0x1000010, &lens[1]);
	imgs[2] = make_elf(0, 0x100000, 0x800, 0x1000, 0x100000, 1, 0x100000, &lens[2]);
	srand(1);
	for (int k = 0; k < 3; k++) {
		uint8_t *copy = malloc(lens[k]);
		for (int i = 0; i < 20000; i++) {
			memcpy(copy, imgs[k], lens[k]);
			for (int j = 0; j < 4; j++)
				copy[(size_t)rand() % 0x300] = (uint8_t)rand();
			len = (size_t)rand() % (lens[k] + 1);
			if (kernel_probe(copy, len, &img, err, sizeof(err)) == 0)
				for (int s = 0; s < img.nseg; s++)
					CHECK(img.seg[s].file_off + img.seg[s].file_size <= len);
		}
		free(copy);
		free(imgs[k]);
	}
}

/* The real test guests and, when built, the real Linux kernel. */
static void probe_file(const char *path, enum kernel_kind want)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		/* build.sh builds all of them: a missing one is a failure, not a skip. */
		printf("    %s is missing: run ./build.sh\n", path);
		check_failed_now = 1;
		return;
	}
	struct stat st;
	fstat(fd, &st);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(kernel_probe(p, (size_t)st.st_size, &img, err, sizeof(err)) == 0);
	CHECK_EQ(img.kind, want);
	munmap(p, (size_t)st.st_size);
	close(fd);
}

TEST(real_images)
{
	probe_file("build/tests/guests/hello.elf", KERNEL_ELF64);
	probe_file("build/tests/guests/pvh32.elf", KERNEL_ELF_PVH);
	probe_file("build/guest/bzImage", KERNEL_BZIMAGE);
	probe_file("build/guest/vmlinux", KERNEL_ELF_PVH);
}

int main(void)
{
	check_suite = "unit/loader";
	RUN(bzimage_ok);
	RUN(bzimage_refusals);
	RUN(elf64_entry_and_pvh);
	RUN(elf_refusals);
	RUN(plan_fit_initrd);
	RUN(mutations_never_crash);
	RUN(real_images);
	return check_summary();
}
