/* Control socket requests: what parses, what is refused and why; JSON escaping; sizes. */
#include "../../api.h"
#include "../../cli.h"
#include "check.h"

#include <string.h>

static struct api_request req;
static char err[256];

static int parse(const char *s)
{
	return api_parse_request(s, strlen(s), &req, err, sizeof(err));
}

TEST(good_requests)
{
	CHECK(parse("{\"cmd\":\"status\"}") == 0);
	CHECK_EQ(req.cmd, API_STATUS);
	CHECK(parse("  { \"cmd\" : \"pause\" }  ") == 0);
	CHECK_EQ(req.cmd, API_PAUSE);
	CHECK(parse("{\"cmd\":\"resume\"}") == 0);
	CHECK(parse("{\"cmd\":\"quit\"}") == 0);
	CHECK_EQ(req.cmd, API_QUIT);
	CHECK(
	    parse(
		"{\"cmd\":\"snapshot\",\"path\":\"/tmp/a \\\"b\\\"\\u0041\",\"then\":\"exit\"}") ==
	    0);
	CHECK_EQ(req.cmd, API_SNAPSHOT);
	CHECK(strcmp(req.path, "/tmp/a \"b\"A") == 0);
	CHECK_EQ(req.then, THEN_EXIT);
	CHECK(parse("{\"then\":\"pause\",\"path\":\"x\",\"cmd\":\"snapshot\"}") == 0);
	CHECK_EQ(req.then, THEN_PAUSE);
}

TEST(bad_requests)
{
	const char *bad[] = {
	    "",
	    "{",
	    "}",
	    "[]",
	    "{}",
	    "{\"cmd\":\"reboot\"}",
	    "{\"cmd\":status}",
	    "{\"cmd\":\"status\",}",
	    "{\"cmd\":\"status\"} x",
	    "{\"cmd\":\"status\",\"x\":\"y\"}",
	    "{\"cmd\":\"snapshot\"}",
	    "{\"cmd\":\"snapshot\",\"path\":\"\"}",
	    "{\"cmd\":\"status\",\"path\":\"p\"}",
	    "{\"cmd\":\"snapshot\",\"path\":\"p\",\"then\":\"x\"}",
	    "{\"cmd\":\"st\\qtus\"}",
	    "{\"cmd\":\"\\u00e9\"}",
	    "{\"cmd\":\"\\u0000\"}",
	    "{\"cmd\":\"a",
	    "{\"cmd\"\"status\"}",
	    "{\"cmd\":\"stat\nus\"}",
	    "{\"cmd\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (parse(bad[i]) == 0)
			printf("    accepted: %s\n", bad[i]);
		CHECK(err[0] != 0);
	}
	CHECK(parse("{\"cmd\":\"reboot\"}") < 0 && strstr(err, "unknown cmd"));
	CHECK(parse("{\"cmd\":\"status\",\"x\":\"y\"}") < 0 && strstr(err, "unknown key"));
	char big[API_LINE_MAX + 64];
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"cmd\":\"snapshot\",\"path\":\"", 26);
	strcpy(big + sizeof(big) - 4, "\"}");
	CHECK(parse(big) < 0 && strstr(err, "too long"));
}

TEST(json_escape_round)
{
	char out[64];
	json_escape(out, sizeof(out), "a\"b\\c\nd");
	CHECK(strcmp(out, "a\\\"b\\\\c\\u000ad") == 0);
	json_escape(out, 8, "abcdefghijkl");
	CHECK(strlen(out) < 8);
}

TEST(sizes)
{
	uint64_t v;
	CHECK(parse_size("128M", &v) == 0 && v == 128ull << 20);
	CHECK(parse_size("2G", &v) == 0 && v == 2ull << 30);
	CHECK(parse_size("4k", &v) == 0 && v == 4096);
	CHECK(parse_size("1GiB", &v) == 0 && v == 1ull << 30);
	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("", &v) < 0);
	CHECK(parse_size("-1M", &v) < 0);
	CHECK(parse_size("12X", &v) < 0);
	CHECK(parse_size("M", &v) < 0);
	CHECK(parse_size("99999999999T", &v) < 0);
	CHECK(parse_size("18446744073709551616", &v) < 0);
}

TEST(durations)
{
	uint32_t ms;
	CHECK(parse_duration_ms("500ms", &ms) == 0 && ms == 500);
	CHECK(parse_duration_ms("2s", &ms) == 0 && ms == 2000);
	CHECK(parse_duration_ms("1m", &ms) == 0 && ms == 60000);
	CHECK(parse_duration_ms("250", &ms) == 0 && ms == 250);
	CHECK(parse_duration_ms("", &ms) < 0);
	CHECK(parse_duration_ms("1h", &ms) < 0);
	CHECK(parse_duration_ms("-1s", &ms) < 0);
	CHECK(parse_duration_ms("99999999999s", &ms) < 0);
}

int main(void)
{
	check_suite = "unit/api";
	RUN(good_requests);
	RUN(bad_requests);
	RUN(json_escape_round);
	RUN(sizes);
	RUN(durations);
	return check_summary();
}
