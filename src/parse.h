/* Strict parsing of settings values: numbers (the whole string, no overflow, within bounds),
 * yes/no. */
#ifndef PETL_PARSE_H
#define PETL_PARSE_H

#include "common.h"

bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);
/* true/1/yes/on or false/0/no/off, any case. */
bool parse_yes_no(const char *v, bool *out);
/* The value of one hex digit (either case), -1 for anything else. */
int hex_digit(char c);

#endif
