/*
 * params.c - the parameter block of lab04: the values a run takes from the
 * make command line (`make run-lab04 CR0_MASK=0x80000001 CR0_SHADOW=0 ...`).
 *
 * Runs in: the bare-metal host.  How the values get here: the image is built
 * once with the defaults of LAB04_PARAM_LIST (lab04.h); for a run with other
 * values, lab04-vm86-guest/params.py checks each value (a 32-bit number),
 * copies the image and overwrites this block in the copy, found by its magic
 * string.  So one build serves any number of parameter sets, and runs with
 * different values never share a file.  `volatile`: the compiler must read
 * the values from memory, never fold the defaults into the code.
 */
#include "lab04.h"

volatile struct lab04_params lab04_params = {
	.magic = LAB04_PARAMS_MAGIC,
	.given = 0,
	.value = {
#define LAB04_PARAM_DEFAULT(name, def, desc) [LAB04_PARAM_##name] = def,
		LAB04_PARAM_LIST(LAB04_PARAM_DEFAULT)
#undef LAB04_PARAM_DEFAULT
	},
};

static const char *const param_names[LAB04_PARAM_COUNT] = {
#define LAB04_PARAM_NAME(name, def, desc) [LAB04_PARAM_##name] = #name,
	LAB04_PARAM_LIST(LAB04_PARAM_NAME)
#undef LAB04_PARAM_NAME
};

void lab04_params_print(void)
{
	unsigned given = 0;

	for (unsigned i = 0; i < LAB04_PARAM_COUNT; i++)
		if ((lab04_params.given >> i) & 1u) {
			printf("param %s: 0x%08x (from the make command line)\n", param_names[i],
			       lab04_params.value[i]);
			given++;
		}
	if (!given)
		printf("params: the defaults (make run-lab04 CR0_MASK=0x... CR0_SHADOW=0x... to change)\n");
}
