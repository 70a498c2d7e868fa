/* Strict parsing of numbers: the whole string, no overflow, within bounds. */
#ifndef PETL_PARSE_H
#define PETL_PARSE_H

#include "common.h"

bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);

#endif
