/* libFuzzer target: kernel image probing and placement (bzImage, ELF, PVH notes). */
#include "../../boot/loader.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_image img;
	char err[256];
	/* A private copy so ASan sees reads past the end of the image. */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (kernel_probe(copy, size, &img, err, sizeof(err)) == 0) {
		struct guest_mem m;
		uint64_t at;
		mem_layout(&m, 256ull << 20);
		for (int i = 0; i < img.nseg; i++)
			if (img.seg[i].file_off + img.seg[i].file_size > size ||
			    img.seg[i].file_size > img.seg[i].mem_size)
				abort();
		kernel_plan_fit(&img, &m, size, &at, err, sizeof(err));
	}
	free(copy);
	return 0;
}
