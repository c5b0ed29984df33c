/* libFuzzer target: control socket request lines. */
#include "../../api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_request req;
	char err[256];
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (api_parse_request(copy, size, &req, err, sizeof(err)) == 0) {
		if (req.cmd > API_QUIT || req.then > THEN_PAUSE)
			abort();
		if (req.cmd == API_SNAPSHOT && !req.path[0])
			abort();
	}
	free(copy);
	return 0;
}
