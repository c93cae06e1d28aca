# tests/typed/typed.mk - compile-fail checks of the typed VMCS accessors.
#
# `make check-typed` compiles each case of tests/typed/vmcs_width.c on its
# own, at -O0 and at -O2, with the payloads' C flags and -Werror: a 16-bit
# write to a 32-bit field, a read into a variable of the wrong size, a typed
# accessor given an encoding known only at run time ... must not compile, and
# must fail with the accessor's own message; the right uses must compile.
# One line per compile; the compilers' logs are in build/tests/typed/.

CHECK_TYPED_SRC    := tests/typed/vmcs_width.c
CHECK_TYPED_CFLAGS  = $(filter-out -O% -g -MMD -MP,$(BM_CFLAGS)) -Werror $(BM_INCLUDES)

.PHONY: check-typed
check-typed:
	@sh tests/typed/check.sh $(CHECK_TYPED_SRC) $(BUILD)/tests/typed $(BM_CC) $(CHECK_TYPED_CFLAGS)

$(call help-line,check-typed  prove a VMCS accessor of the wrong width does not compile (at -O0 and -O2))
