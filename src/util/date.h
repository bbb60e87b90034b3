/*
 * date.h: UTC calendar arithmetic, without libc's time zone machinery
 * (which a static binary would otherwise carry for gmtime_r alone).
 */
#ifndef TB_DATE_H
#define TB_DATE_H

#include <stdint.h>

struct date {
	int64_t year;
	int month; /* 1-12 */
	int day;   /* 1-31 */
	int hour, minute, second;
};

/* Unix seconds to a UTC date (proleptic Gregorian calendar). */
void date_from_unix(int64_t t, struct date *d);

/* A UTC date to Unix seconds; the fields are taken as given. */
int64_t date_to_unix(const struct date *d);

#endif
