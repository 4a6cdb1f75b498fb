/* Prints every definition of vpio/vif_proto.h as NAME=value, one per line
 * (c-header.test.ts compares them with protocol.ts). */
#include <stdio.h>

#include "vpio/vif_proto.h"

#define PRINT_STRING(n) printf("%s=%s\n", #n, n);
#define PRINT_NUMBER(n) printf("%s=%u\n", #n, (unsigned)(n));

int main(void)
{
	VIF_PROTO_STRINGS(PRINT_STRING)
	VIF_PROTO_NUMBERS(PRINT_NUMBER)
	return 0;
}
