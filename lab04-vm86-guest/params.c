/*
 * params.c - the parameter block of lab04: the values a run takes from the
 * make command line (`make run-lab04 CR0_MASK=0x80000001 CR0_SHADOW=0 ...`).
 *
 * Runs in: the bare-metal host.  How the values get here: make builds one
 * image per parameter set.  tools/lab04params/params.py checks each value
 * (a 32-bit number), then make compiles this file again for the set, with
 *   -DLAB04_PARAMS_GIVEN=0x...       bit i set: parameter i was given
 *   -DLAB04_PARAMS_VALUES=v0,v1,...  every value, in LAB04_PARAM_LIST order
 * and links it with the lab's other objects, unchanged, into
 * build/lab04/params-<hash>/lab04.img.  `make lab04` compiles it without
 * them: the defaults of LAB04_PARAM_LIST (lab04.h).
 */
#include "lab04.h"

#ifndef LAB04_PARAMS_VALUES
#define LAB04_PARAMS_GIVEN 0
#define LAB04_PARAM_DEFAULT(name, def, desc) def,
#define LAB04_PARAMS_VALUES LAB04_PARAM_LIST(LAB04_PARAM_DEFAULT)
#endif

const struct lab04_params lab04_params = {
	.given = LAB04_PARAMS_GIVEN,
	.value = { LAB04_PARAMS_VALUES },
};

/* As many values as parameters: a set built from another list would not fit. */
_Static_assert(sizeof((vmx_u32[]){ LAB04_PARAMS_VALUES }) == sizeof(lab04_params.value),
	       "LAB04_PARAMS_VALUES: one value per LAB04_PARAM_LIST entry");

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
