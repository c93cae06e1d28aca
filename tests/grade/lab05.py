"""tests/grade/lab05.py - lab05 (EPT and VPID in the modular monitor, two
vCPUs): what a student may change, and the checks.

Declarations only; the engine is tests/lib/gradelib.py (docs/CONTRACTS.md,
"Graders"). Every check reads the COM1 transcript of one real Bochs run
(two CPUs) of the monitor built in a fresh copy of the kit with the
student's ept.c. Every line the monitor prints starts with who printed it:
"[vcpu0] " (the monitor), "[vcpu1 memtest] " (while guest memtest runs).

The build sets every monitor.cfg key on make's command line, so a
student's monitor.cfg changes nothing here, and the grade depends on
ept.c alone: vmxbase = kit (common/vmm/answers does lab03's VMXON,
controls and machine[]), vm86 = kit (the kit's solution of lab04, which
the grading copy holds as a stand-in, runs the vm86 guest and every
guest's COM1), and the guest lists are monitor.cfg's defaults.
"""
from lib.gradelib import Lab, bochs

IMAGE = "build/lab05/grade/main/lab05.img"
VCPU0 = "vm86 longmode memtest"
VCPU1 = "msrdump vmxprobe memtest"

lab = Lab("05",
          files=["ept.c"],
          build=["lab05", "GPHYS=ept", "STATS=on", "VMXBASE=kit", "VM86=kit", "TEST=none",
                 "VCPU0=" + VCPU0, "VCPU1=" + VCPU1, "LAB05_OUT=" + IMAGE.rsplit("/", 1)[0]],
          # The host side's and the monitor's own (a guest's EXCEPTION line,
          # "[vcpu1 vmxprobe] EXCEPTION: ...", is that guest's business).
          expect_not=[r"^(\[vcpu\d\] )?(EXCEPTION|PANIC):"],
          stand_ins=["solutions/lab04-vm86-guest"])
# (No kit_answers: common/monitor/gphys_ept.c is the kit's side of EPT, the
# capability check, ept_set's record, ept_invept, the exits; it calls the
# student's ept_pointer, ept_map, ept_walk, ept_decode, ept_violation,
# ept_unmap and vpid_for and does none of them itself.)

# Two CPUs: Bochs 2.7 does not honour the debugger's time breakpoint (the
# tick watchdog, `sba`) then, so the wall clock alone stops a hung run. A
# complete run takes about 3 s (5 s on a loaded machine).
run = lab.run("two-vcpus", bochs(image=IMAGE, cpu="corei7_haswell_4770", cpus=2, timeout=30,
                                 ticks=None))

# The guests of each vCPU, by the name in their lines' prefix.
GUESTS = [(0, g) for g in VCPU0.split()] + [(1, g) for g in VCPU1.split()]


def on(vcpu, guest, rx):
    """RX as a whole line of GUEST on VCPU ('\\d' for either vCPU)."""
    return r"^\[vcpu%s %s\] %s" % (vcpu, guest, rx)


# EPTP (SDM 24.6.11): bits 2:0 memory type 6 (write-back), bits 5:3 the
# walk length minus 1 (3), bit 6 accessed/dirty (Bochs' IA32_VMX_EPT_VPID_CAP
# has it), bits 11:7 zero, so the low 12 bits are 0x05e; above them the
# PML4's physical address, not 0.
lab.check("EPT pointer: write-back, 4-level walk, accessed/dirty flags (low bits 0x05e)", 10, run,
          expect=[on(v, g, r"monitor: EPT pointer 0x[1-9a-f][0-9a-f]*05e, VPID \d+$") for v, g in GUESTS],
          expect_not=[r"monitor: EPT pointer (?!0x[1-9a-f][0-9a-f]*05e,)"])
lab.check("every guest of every vCPU has its own VPID, never 0", 10, run,
          expect=[on(v, g, r"monitor: EPT pointer 0x[0-9a-f]+, VPID [1-9]\d*$") for v, g in GUESTS],
          expect_not=[r"vpid_for gave VPID 0",
                      # one VPID on two EPT pointer lines (each guest prints one)
                      r"(?s)monitor: EPT pointer 0x[0-9a-f]+, VPID (\d+)$"
                      r".*monitor: EPT pointer 0x[0-9a-f]+, VPID \1$"])
lab.check("the vm86 guest (lab04's) runs with its memory behind EPT", 10, run,
          expect=[on(0, "vm86", r"monitor: lab04's guest code at guest-physical 0x40000000, "
                                r"host-physical 0x[0-9a-f]+ \(EPT\)"),
                  on(0, "vm86", r"guest: hello from virtual-8086 mode$"),
                  on(0, "vm86", r"monitor: #GP at the guest's final hlt \(CPL 3\): guest ended$")])
lab.check("longmode reaches 64-bit long mode", 10, run,
          expect=[on(0, "longmode", r"monitor: EFER\.LMA 0 -> 1 \(IA-32e mode: long mode\)$"),
                  on(0, "longmode", r"longmode: hello from 64-bit long mode: .*\(LMA 1\)$"),
                  on(0, "longmode", r"monitor: guest longmode ended after \d+ exits")])
lab.check("demand paging: fresh pages where nothing was mapped", 15, run,
          expect=[on(v, "memtest", r"memtest: touched 32 pages from 0x1000000$") for v in (0, 1)] +
                 [on(v, g, r"monitor: guest %s (ended|stopped) after \d+ exits \([1-9]\d* demand-paging faults"
                     % g) for v, g in GUESTS if g != "vm86"])
# Both memtests write one byte of their image's page 0xa000, which every
# memtest guest shares read-only: each must see the image's own byte, not
# the other's write.
lab.check("copy-on-write: a write to a shared image page gets its own copy", 15, run,
          expect=[on(v, "memtest", r"monitor: copy-on-write: the guest wrote its shared page 0xa000: "
                                   r"it has its own copy now$") for v in (0, 1)] +
                 [r"(?s)^\[vcpu(\d) memtest\] memtest: wrote the shared image page 0xa000: "
                  r"(0x[0-9a-f]{2}) -> (?!\2$)(0x[0-9a-f]{2})$"
                  r".*^\[vcpu(?!\1)\d memtest\] memtest: wrote the shared image page 0xa000: \2 -> \3$"] +
                 [on(v, "memtest", r"monitor: guest memtest stopped after \d+ exits \(\d+ demand-paging "
                                   r"faults, [1-9]\d* copy-on-write faults\)") for v in (0, 1)])
lab.check("a read outside the guest's RAM stops that guest, decoded; the monitor goes on", 10, run,
          expect=[on(v, "memtest", r"stopped: read of guest-physical 0x9000000, outside its RAM "
                                   r"0x0-0x7ffffff \(walk allowed ---; linear address valid, "
                                   r"the final address\)$") for v in (0, 1)] +
                 [r"^\[vcpu%d\] monitor: 3 guests run, VMXOFF done" % v for v in (0, 1)] +
                 [r"^host: vCPU 0: done$", r"^host: vCPU 1: done$"],
          expect_not=[r"the monitor did not stop me"])
# The kit records every EPT entry change and INVEPT (gphys_ept.c): memtest
# gives page 0x2000000 back, ept_unmap must clear it and INVEPT once.
lab.check("invalidation: the page given back is unmapped with one INVEPT, none missing or unneeded",
          10, run,
          expect=[on(v, "memtest", r"ept record: 0x2000000 rwx -> ---: removes or narrows a "
                                   r"translation: INVEPT needed$") for v in (0, 1)] +
                 [on(v, "memtest", r"memtest: gave page 0x2000000 back \(hypercall result 0\); "
                                   r"it now reads 0x0$") for v in (0, 1)] +
                 [on(v, "memtest", r"ept record: .*; [1-9]\d* INVEPT; discipline: ok \(0 missing, "
                                   r"0 not needed\)$") for v in (0, 1)],
          expect_not=[r"discipline: broken", r"MISSING INVEPT", r"INVEPT with no removed or narrowed"])
# Both memtests use guest-physical 0x3000000 at the same time; each finds a
# fresh zero page there, never the other's "canary-of-cpu-N".
lab.check("isolation: no memtest sees the other's canary", 10, run,
          expect=[on(v, "memtest", r"memtest: 0x3000000 holds \"\" before my canary$") for v in (0, 1)] +
                 [on(v, "memtest", r"memtest: wrote my canary at 0x3000000$") for v in (0, 1)],
          expect_not=[r"holds \"canary-of-cpu"])
