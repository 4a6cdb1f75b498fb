/* SPDX-License-Identifier: MIT */
/*
 * host-names.h - for the host test only (test/c/test-pv-libc.c; the
 * Makefile passes it with -include): renames every public symbol of this
 * libc to mo_NAME, so the test links it beside glibc and compares the two.
 * A function added to the libc gets its line here (c-programs.test.ts
 * checks that the freestanding objects define every name listed).
 */
#define abs mo_abs
#define bcmp mo_bcmp
#define bsearch mo_bsearch
#define calloc mo_calloc
#define errno mo_errno
#define free mo_free
#define htonl mo_htonl
#define htons mo_htons
#define inet_pton mo_inet_pton
#define isalnum mo_isalnum
#define isalpha mo_isalpha
#define isblank mo_isblank
#define iscntrl mo_iscntrl
#define isdigit mo_isdigit
#define isgraph mo_isgraph
#define islower mo_islower
#define isprint mo_isprint
#define ispunct mo_ispunct
#define isspace mo_isspace
#define isupper mo_isupper
#define isxdigit mo_isxdigit
#define labs mo_labs
#define llabs mo_llabs
#define malloc mo_malloc
#define memchr mo_memchr
#define memcmp mo_memcmp
#define memcpy mo_memcpy
#define memmove mo_memmove
#define memset mo_memset
#define ntohl mo_ntohl
#define ntohs mo_ntohs
#define qsort mo_qsort
#define realloc mo_realloc
#define snprintf mo_snprintf
#define stpcpy mo_stpcpy
#define strcat mo_strcat
#define strchr mo_strchr
#define strcmp mo_strcmp
#define strcpy mo_strcpy
#define strcspn mo_strcspn
#define strdup mo_strdup
#define strlen mo_strlen
#define strncat mo_strncat
#define strncmp mo_strncmp
#define strncpy mo_strncpy
#define strndup mo_strndup
#define strnlen mo_strnlen
#define strpbrk mo_strpbrk
#define strrchr mo_strrchr
#define strspn mo_strspn
#define strstr mo_strstr
#define strtol mo_strtol
#define strtoll mo_strtoll
#define strtoul mo_strtoul
#define strtoull mo_strtoull
#define tolower mo_tolower
#define toupper mo_toupper
#define vsnprintf mo_vsnprintf
