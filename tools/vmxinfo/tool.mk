# tools/vmxinfo/tool.mk - the host tool vmxinfo (build/tools/vmxinfo).
# It reads no file at run time: the fact lists are compiled in.

VMXINFO := $(BUILD)/tools/vmxinfo
HOST_CC     ?= gcc
HOST_CFLAGS ?= -std=gnu11 -O2 -g -Wall -Wextra -Werror

$(VMXINFO): tools/vmxinfo/vmxinfo.c $(wildcard common/include/vmx/*.h common/vmx/*.def)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Icommon/include $< -o $@

.PHONY: vmxinfo
$(call help-line,vmxinfo      build the host tool build/tools/vmxinfo (VMX facts from the command line))
vmxinfo: $(VMXINFO)

ALL_TARGETS += $(VMXINFO)
