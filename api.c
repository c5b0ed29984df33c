/* Control socket protocol: request parser, JSON escaping, and the ctl client. */
#include "api.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct parser {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\r' || p->s[p->pos] == '\n'))
		p->pos++;
}

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a JSON string into out (NUL-terminated, at most outlen-1 bytes). */
static int parse_string(struct parser *p, char *out, size_t outlen)
{
	size_t n = 0;
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail(p, "expected a string");
	p->pos++;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"') {
			out[n] = 0;
			return 0;
		}
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			char e = p->s[p->pos++];
			switch (e) {
			case '"':
			case '\\':
			case '/':
				c = (unsigned char)e;
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u': {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int h = p->pos < p->len ? hexval(p->s[p->pos++]) : -1;
					if (h < 0)
						return fail(p, "bad \\u escape");
					v = v * 16 + h;
				}
				if (v == 0 || v > 0x7f)
					return fail(p, "\\u escape outside ASCII");
				c = (unsigned char)v;
				break;
			}
			default:
				return fail(p, "bad escape");
			}
		}
		if (n + 1 >= outlen)
			return fail(p, "string too long");
		out[n++] = (char)c;
	}
	return fail(p, "unterminated string");
}

static int set_field(struct parser *p, const char *key, const char *val, int *seen,
		     struct api_request *req)
{
	static const char *cmds[] = {"status", "pause", "resume", "snapshot", "quit"};
	static const char *thens[] = {"resume", "exit", "pause"};
	if (strcmp(key, "cmd") == 0) {
		for (int i = 0; i < 5; i++)
			if (strcmp(val, cmds[i]) == 0) {
				req->cmd = (enum api_cmd)i;
				seen[0] = 1;
				return 0;
			}
		snprintf(p->err, p->errlen, "unknown cmd \"%.64s\"", val);
		return -1;
	}
	if (strcmp(key, "path") == 0) {
		snprintf(req->path, sizeof(req->path), "%s", val);
		seen[1] = 1;
		return 0;
	}
	if (strcmp(key, "then") == 0) {
		for (int i = 0; i < 3; i++)
			if (strcmp(val, thens[i]) == 0) {
				req->then = (enum api_then)i;
				seen[2] = 1;
				return 0;
			}
		snprintf(p->err, p->errlen, "unknown then \"%.64s\" (resume, exit or pause)", val);
		return -1;
	}
	snprintf(p->err, p->errlen, "unknown key \"%.64s\"", key);
	return -1;
}

int api_parse_request(const char *line, size_t len, struct api_request *req, char *err,
		      size_t errlen)
{
	struct parser p = {line, len, 0, err, errlen};
	char key[64], val[API_LINE_MAX];
	int seen[3] = {0, 0, 0};
	memset(req, 0, sizeof(*req));
	req->then = THEN_RESUME;
	skip_ws(&p);
	if (p.pos >= p.len || line[p.pos++] != '{')
		return fail(&p, "expected '{'");
	skip_ws(&p);
	if (p.pos < p.len && line[p.pos] == '}') {
		p.pos++;
	} else {
		for (;;) {
			skip_ws(&p);
			if (parse_string(&p, key, sizeof(key)))
				return -1;
			skip_ws(&p);
			if (p.pos >= p.len || line[p.pos++] != ':')
				return fail(&p, "expected ':'");
			skip_ws(&p);
			if (parse_string(&p, val, sizeof(val)))
				return -1;
			if (set_field(&p, key, val, seen, req))
				return -1;
			skip_ws(&p);
			if (p.pos < p.len && line[p.pos] == ',') {
				p.pos++;
				continue;
			}
			if (p.pos < p.len && line[p.pos] == '}') {
				p.pos++;
				break;
			}
			return fail(&p, "expected ',' or '}'");
		}
	}
	skip_ws(&p);
	if (p.pos != p.len)
		return fail(&p, "trailing bytes after the object");
	if (!seen[0]) {
		snprintf(err, errlen, "missing \"cmd\"");
		return -1;
	}
	if (req->cmd == API_SNAPSHOT && (!seen[1] || !req->path[0])) {
		snprintf(err, errlen, "snapshot needs a non-empty \"path\"");
		return -1;
	}
	if (req->cmd != API_SNAPSHOT && (seen[1] || seen[2])) {
		snprintf(err, errlen, "\"path\" and \"then\" belong to snapshot only");
		return -1;
	}
	return 0;
}

void json_escape(char *out, size_t outlen, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, outlen - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = 0;
}

static int ctl_usage(void)
{
	fprintf(stderr, "usage: vmm ctl SOCKET status|pause|resume|quit|events\n"
			"       vmm ctl SOCKET snapshot PATH [resume|exit|pause]\n");
	return EXIT_USAGE;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		vmm_log("ctl: socket path too long (%zu bytes, at most %zu)", strlen(path),
			sizeof(a.sun_path) - 1);
		return -1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		vmm_log("ctl: cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read one line into buf; returns its length, or -1 at EOF/error. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n ? (int)n : -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return (int)n;
}

int ctl_main(int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage();
	const char *sock = argv[0], *cmd = argv[1];
	char req[API_LINE_MAX + 128], esc[API_LINE_MAX];
	int events = strcmp(cmd, "events") == 0;
	if (strcmp(cmd, "snapshot") == 0) {
		if (argc < 3 || argc > 4)
			return ctl_usage();
		json_escape(esc, sizeof(esc), argv[2]);
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"snapshot\",\"path\":\"%s\",\"then\":\"%s\"}\n", esc,
			 argc == 4 ? argv[3] : "resume");
	} else if (!events) {
		if (argc != 2)
			return ctl_usage();
		json_escape(esc, sizeof(esc), cmd);
		snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}\n", esc);
	}
	int fd = ctl_connect(sock);
	if (fd < 0)
		return EXIT_VMM_FAILED;
	if (!events && write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		vmm_log("ctl: cannot send the request: %s", strerror(errno));
		return EXIT_VMM_FAILED;
	}
	char line[API_LINE_MAX];
	for (;;) {
		if (read_line(fd, line, sizeof(line)) < 0) {
			if (events)
				return 0;
			vmm_log("ctl: connection closed before a reply");
			return EXIT_VMM_FAILED;
		}
		int is_event = strncmp(line, "{\"event\":", 9) == 0;
		if (events || !is_event) {
			printf("%s\n", line);
			fflush(stdout);
		}
		if (!events && !is_event)
			return strncmp(line, "{\"ok\":true", 10) == 0 ? 0 : EXIT_VMM_FAILED;
	}
}
