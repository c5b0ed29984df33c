/*
 * A minimal unit-test harness: TEST(name) defines a test, CHECK(cond) records
 * a failure with file:line, RUN(name) runs one and prints PASS/FAIL lines the
 * test runner counts. main() ends with `return check_summary();`.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_failed_now, check_failures;
static const char *check_suite = "unit";

#define TEST(name) static void test_##name(void)
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);        \
			check_failed_now = 1;                                                      \
		}                                                                                  \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);   \
		if (va_ != vb_) {                                                                  \
			printf("    %s:%d: %s == 0x%llx, expected %s == 0x%llx\n", __FILE__,       \
			       __LINE__, #a, va_, #b, vb_);                                        \
			check_failed_now = 1;                                                      \
		}                                                                                  \
	} while (0)
#define RUN(name)                                                                                  \
	do {                                                                                       \
		check_failed_now = 0;                                                              \
		test_##name();                                                                     \
		printf("%s %s/%s\n", check_failed_now ? "FAIL" : "PASS", check_suite, #name);      \
		check_failures += check_failed_now;                                                \
	} while (0)

static inline int check_summary(void)
{
	return check_failures ? 1 : 0;
}

#endif
