/* SPDX-License-Identifier: MIT */
/*
 * ctype.h - character classes of the "C" locale (the only locale there is).
 * Arguments are an unsigned char value or EOF; EOF and bytes >= 0x80 are in
 * no class. Functions, not macros: each argument is evaluated once.
 */
#ifndef MO_LIBC_CTYPE_H
#define MO_LIBC_CTYPE_H

int isalnum(int c);
int isalpha(int c);
int isblank(int c);
int iscntrl(int c);
int isdigit(int c);
int isgraph(int c);
int islower(int c);
int isprint(int c);
int ispunct(int c);
int isspace(int c);
int isupper(int c);
int isxdigit(int c);
int tolower(int c);
int toupper(int c);

#endif /* MO_LIBC_CTYPE_H */
