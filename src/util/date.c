/*
 * date.c: UTC calendar arithmetic, after Howard Hinnant's days_from_civil
 * and civil_from_days algorithms (eras of 400 years, March-based years).
 */
#include "date.h"

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void
date_from_unix(int64_t t, struct date *d)
{
	int64_t days = floor_div(t, 86400), secs = t - days * 86400;
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	d->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d->year = yoe + era * 400 + (d->month <= 2);
	d->hour = (int)(secs / 3600);
	d->minute = (int)(secs / 60 % 60);
	d->second = (int)(secs % 60);
}

int64_t
date_to_unix(const struct date *d)
{
	int64_t y = d->year - (d->month <= 2);
	int64_t era = floor_div(y, 400), yoe = y - era * 400;
	int64_t doy = (153 * (d->month > 2 ? d->month - 3 : d->month + 9) + 2) /
	        5 +
	    d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (era * 146097 + doe - 719468) * 86400 + (int64_t)d->hour * 3600 +
	    (int64_t)d->minute * 60 + d->second;
}
