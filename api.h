/*
 * The control socket protocol: newline-delimited JSON, one object per line.
 * Parsing here is the boundary for untrusted input from socket clients.
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <stddef.h>

#define API_LINE_MAX 4096

enum api_cmd { API_STATUS, API_PAUSE, API_RESUME, API_SNAPSHOT, API_QUIT };
enum api_then { THEN_RESUME, THEN_EXIT, THEN_PAUSE };

struct api_request {
	enum api_cmd cmd;
	char path[API_LINE_MAX]; /* snapshot only */
	enum api_then then;	 /* snapshot only */
};

/*
 * Parse one request line (without its newline). Returns 0, or -1 with a
 * reason in err. Unknown keys are refused, so typos are not silently ignored.
 */
int api_parse_request(const char *line, size_t len, struct api_request *req, char *err,
		      size_t errlen);

/* Append s to out as a JSON string body (no quotes), escaped; out is NUL-terminated. */
void json_escape(char *out, size_t outlen, const char *s);

/* `vmm ctl SOCKET COMMAND [ARGS]`: the client. Returns the exit status. */
int ctl_main(int argc, char **argv);

#endif
