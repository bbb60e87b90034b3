/*
 * test_date.c: UTC calendar arithmetic against known instants, and the
 * round trip over a wide range of days.
 */
#include "unit.h"

#include "date.h"

static const struct {
	int64_t t;
	struct date d;
} known[] = {
	{ 0, { 1970, 1, 1, 0, 0, 0 } },
	{ 784111777, { 1994, 11, 6, 8, 49, 37 } },   /* RFC 9110's example */
	{ 951782400, { 2000, 2, 29, 0, 0, 0 } },     /* leap day, 400 rule */
	{ 4107542399, { 2100, 2, 28, 23, 59, 59 } }, /* 2100 is no leap year */
	{ 4107542400, { 2100, 3, 1, 0, 0, 0 } },
	{ 1800000000, { 2027, 1, 15, 8, 0, 0 } },
	{ -1, { 1969, 12, 31, 23, 59, 59 } },
};

static void
test_known_instants(void **state)
{
	struct date d;
	size_t i;

	for (i = 0; i < ARRAY_LEN(known); i++) {
		date_from_unix(known[i].t, &d);
		assert_int_equal(d.year, known[i].d.year);
		assert_int_equal(d.month, known[i].d.month);
		assert_int_equal(d.day, known[i].d.day);
		assert_int_equal(d.hour, known[i].d.hour);
		assert_int_equal(d.minute, known[i].d.minute);
		assert_int_equal(d.second, known[i].d.second);
		assert_int_equal(date_to_unix(&known[i].d), known[i].t);
	}
}

static void
test_round_trip(void **state)
{
	struct date d;
	int64_t t;

	/* Every day from 1900 to 2400, at a time of day that moves. */
	for (t = -2208988800LL; t < 13569465600LL; t += 86400 + 7) {
		date_from_unix(t, &d);
		assert_true(d.month >= 1 && d.month <= 12);
		assert_true(d.day >= 1 && d.day <= 31);
		assert_int_equal(date_to_unix(&d), t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_instants),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
