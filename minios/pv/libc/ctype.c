/* SPDX-License-Identifier: MIT */
/* ctype.c - character classes of the "C" locale: ASCII only. */
#include <ctype.h>

/* in_range: lo <= c <= hi, with c possibly EOF or out of unsigned char range. */
static int in_range(int c, int lo, int hi)
{
	return c >= lo && c <= hi;
}

int isdigit(int c)
{
	return in_range(c, '0', '9');
}

int islower(int c)
{
	return in_range(c, 'a', 'z');
}

int isupper(int c)
{
	return in_range(c, 'A', 'Z');
}

int isalpha(int c)
{
	return islower(c) || isupper(c);
}

int isalnum(int c)
{
	return isalpha(c) || isdigit(c);
}

int isxdigit(int c)
{
	return isdigit(c) || in_range(c, 'a', 'f') || in_range(c, 'A', 'F');
}

int isblank(int c)
{
	return c == ' ' || c == '\t';
}

int isspace(int c)
{
	return c == ' ' || in_range(c, '\t', '\r'); /* \t \n \v \f \r */
}

int iscntrl(int c)
{
	return in_range(c, 0, 0x1f) || c == 0x7f;
}

int isprint(int c)
{
	return in_range(c, 0x20, 0x7e);
}

int isgraph(int c)
{
	return in_range(c, 0x21, 0x7e);
}

int ispunct(int c)
{
	return isgraph(c) && !isalnum(c);
}

int tolower(int c)
{
	return isupper(c) ? c - 'A' + 'a' : c;
}

int toupper(int c)
{
	return islower(c) ? c - 'a' + 'A' : c;
}
