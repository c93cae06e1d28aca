"""The VM-entry differential test: the software checker (common/vmcheck/)
against Bochs' VM-entry checks, one Bochs run per case of tests/vmentry/cases.def.

For each case the image build/vmentry/vmentry.img is copied with the case
number written after the marker "VMENTRY_CASE_NO:" (tests/vmentry/vmentry.c),
and booted in Bochs. The payload builds a valid VMCS, applies the breakage,
prints what the checker found (`vmcheck: <ID> ...`) and what it expects the
CPU to do (`expected: ...`), then executes VMLAUNCH and prints what the CPU
did (`outcome: ...`). A case agrees when

  (a) the checker names the case's rule (for a "NONE" case: 0 violations), and
  (b) Bochs refuses the entry the way the checker expects (same VMfailValid
      error, or same entry-failure exit reason and qualification; or launches
      when the checker found nothing), with Bochs' own log line
      (`VMFAIL: ...` / `VMENTER FAIL: ...`, emu.py sets `error: action=report`)
      as evidence for every refusal.

A case marked MISSES in cases.def is an SDM rule that Bochs 2.7 does not
check: the checker must still name it and Bochs must launch the guest. A
case marked DIFFERS is one Bochs refuses, but not the way the SDM says (a
different error or exit). Neither counts towards the 30 required agreeing
cases, and each fails when Bochs stops behaving as marked.

The last test prints the table `case | rule named | Bochs outcome | agree`
and writes it to results/vmentry/table.txt (with the Bochs log lines).
"""

import glob
import os
import re
import struct
import sys
import concurrent.futures
import time

import pytest

from lib import emu
from lib.testlib import once, Skip, TestFailure, build_path, TOP

CASES_DEF = os.path.join(TOP, "tests", "vmentry", "cases.def")
MAGIC = b"VMENTRY_CASE_NO:"
CPU = "corei7_haswell_4770"
# The same cases on models with other capabilities: Penryn has no secondary
# controls (no EPT, VPID, unrestricted guest), Tigerlake has revision id 4
# and more of everything. Cases the model cannot express are "not applicable".
OTHER_CPUS = ["core2_penryn_t9600", "tigerlake"]
# Marks that hold on one model only (the cases.def column is for every model).
# tigerlake reports IA32_VMX_BASIC bit 56 (a hardware exception may be
# injected with or without an error code); Bochs then skips the whole
# deliver-error-code check, also for events that are not hardware exceptions,
# which the SDM still requires to have the bit 0 (measured: the external
# interrupt with "deliver error code" is injected, `launched exit reason 0`).
MODEL_MARKS = {("tigerlake", "INTR_EXTINT_ERROR_CODE"): "MISSES"}
REQUIRED_AGREEING = 30
RESULTS_DIR = os.path.join(emu.RESULTS, "vmentry")


def load_cases():
    """[(number, name, rule, bochs, what)] from cases.def; 0 is the valid VMCS."""
    rx = re.compile(r'^VMENTRY_CASE\(\s*(\w+),\s*"(\w+)",\s*(CHECKS|MISSES|DIFFERS),\s*"([^"]*)"\)\s*$')
    cases = [(0, "VALID", "NONE", "CHECKS", "nothing broken (the control case)")]
    with open(CASES_DEF) as f:
        for line in f:
            if line.startswith("VMENTRY_CASE("):
                m = rx.match(line)
                if not m:
                    raise ValueError("cases.def: cannot read line %r" % line.strip())
                cases.append((len(cases),) + m.groups())
    return cases


CASES = load_cases()
BATCHES = 4                     # Bochs runs at once for one model (2 cores: they mostly wait)
SEPARATOR = "VMFAIL: VMCLEAR with invalid physical address"


def case_image(first, count, cpu):
    """A copy of the image with (first, count) written after the marker."""
    image = build_path("vmentry", "vmentry.img")
    with open(image, "rb") as f:
        data = f.read()
    if data.count(MAGIC) != 1:
        raise TestFailure("%s holds the marker %r %d times, not once"
                          % (image, MAGIC.decode(), data.count(MAGIC)))
    at = data.index(MAGIC) + len(MAGIC)
    data = data[:at] + struct.pack("<II", first, count) + data[at + 8:]
    out = os.path.join(os.path.dirname(image), "cases")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-cases%02d-%02d.img" % (cpu, first, first + count - 1))
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    return path


def bochs_lines(log):
    """Bochs' VM-entry messages (error: action=report), without the tick prefix."""
    out = []
    for line in log.splitlines():
        m = re.search(r"(VMFAIL:.*|VMENTER FAIL:.*|VMENTER: Guest State.*|"
                      r"VMX LoadMSRs.*|VMEXIT: Error when loading.*)$", line)
        if m and SEPARATOR not in line:
            out.append(m.group(1).strip())
    return out


def parse(serial, log):
    r = {
        "named": re.findall(r"^vmcheck: (\w+) \(SDM ", serial, re.M),
        "count": None, "expected": None, "outcome": None, "not_applicable": None,
        "bochs_lines": bochs_lines(log), "serial": serial,
    }
    m = re.search(r"^vmcheck: (\d+) violation\(s\)$", serial, re.M)
    r["count"] = int(m.group(1)) if m else None
    m = re.search(r"^expected: (.*)$", serial, re.M)
    r["expected"] = m.group(1).strip() if m else None
    m = re.search(r"^outcome: (.*?)(?: \(.*\))?$", serial, re.M)
    r["outcome"] = m.group(1).strip() if m else None
    m = re.search(r"^case: not applicable on this CPU: (.*)$", serial, re.M)
    r["not_applicable"] = m.group(1) if m else None
    return r


def same_outcome(expected, outcome):
    """The checker's expectation vs what the CPU did."""
    if expected is None or outcome is None:
        return False
    if expected == "launched":
        return outcome.startswith("launched exit reason ")
    return expected == outcome


def judge(case, r, cpu=CPU):
    number, name, rule, bochs, what = case
    bochs = MODEL_MARKS.get((cpu, name), bochs)
    r["mark"] = bochs
    checker_ok = (r["count"] == 0) if rule == "NONE" else (rule in r["named"])
    refused = r["outcome"] is not None and not r["outcome"].startswith("launched")
    if bochs == "CHECKS":
        bochs_ok = same_outcome(r["expected"], r["outcome"]) and \
            (not refused or bool(r["bochs_lines"]))
    elif bochs == "MISSES":     # the checker says "refuse", Bochs launches anyway
        bochs_ok = r["expected"] not in (None, "launched") and not refused \
            and r["outcome"] is not None
    else:                       # DIFFERS: both refuse, differently, Bochs says why
        bochs_ok = r["expected"] not in (None, "launched") and refused \
            and not same_outcome(r["expected"], r["outcome"]) and bool(r["bochs_lines"])
    r["case"] = case
    r["checker_ok"], r["bochs_ok"] = checker_ok, bochs_ok
    r["agree"] = checker_ok and bochs_ok and r["not_applicable"] is None
    return r


def run_cases(cpu, first, count):
    """One Bochs boot running cases first..first+count-1: (run, {case number:
    judged result}, (start, end) of the run)."""
    image = case_image(first, count, cpu)
    t0 = time.monotonic()
    run = emu.run_bochs(image, cpu=cpu, timeout=90,
                        name="vmentry-%s%02d-%02d" % ("" if cpu == CPU else cpu + "-",
                                                     first, first + count - 1))
    t1 = time.monotonic()
    # The serial transcript, cut at each "case: N NAME" line; the Bochs log,
    # cut at the separator VMCLEAR line the payload causes before each case.
    serial = {}
    marks = list(re.finditer(r"^case: (\d+) \w+$", run.serial, re.M))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(run.serial)
        serial[int(m.group(1))] = run.serial[m.start():end]
    logs, current = [], None
    for line in run.log.splitlines():
        if SEPARATOR in line:
            current = []
            logs.append(current)
        elif current is not None:
            current.append(line)
    results = {}
    for k in range(count):
        n = first + k
        if n in serial and k < len(logs):
            r = parse(serial[n], "\n".join(logs[k]))
            r["run"] = run
            results[n] = judge(CASES[n], r, cpu)
    return run, results, (t0, t1)


def all_cases(cpu):
    """Every case on `cpu`, in BATCHES Bochs boots at once, run once per test
    session (testlib.once: the pytest-xdist workers share it): ({case number:
    result}, [(start, end) of each boot])."""
    def go():
        size = (len(CASES) + BATCHES - 1) // BATCHES
        with concurrent.futures.ThreadPoolExecutor(max_workers=BATCHES) as pool:
            batches = list(pool.map(lambda f: run_cases(cpu, f, min(size, len(CASES) - f)),
                                    range(0, len(CASES), size)))
        results = {}
        for _, r, _ in batches:
            results.update(r)
        return results, [span for _, _, span in batches]
    return once(("vmentry", cpu), go)


def run_case(case, cpu=CPU):
    """The result of one case: from its batch, or (if the batch died before
    reaching it) from a Bochs run of that case alone."""
    number = case[0]
    results, _ = all_cases(cpu)
    if number in results:
        return results[number]
    run, alone, _ = once(("vmentry-alone", cpu, number), lambda: run_cases(cpu, number, 1))
    if number not in alone:
        raise TestFailure("case %d printed no `case:` line even when run alone (%s): %s/serial.txt"
                          % (number, run.why_stopped(), os.path.relpath(run.dir, TOP)))
    return alone[number]


@pytest.mark.vmentry
@pytest.mark.parametrize("case", CASES, ids=["%02d %s" % (c[0], c[1]) for c in CASES])
def test_vmentry_case(case):
    """vmentry: one case of tests/vmentry/cases.def: the checker names the rule, Bochs does what it is marked to do"""
    number, name, rule, bochs, what = case
    r = run_case(case)
    run = r["run"]
    where = "\n  this case's output:\n%s\n  whole run: %s/serial.txt, %s/bochs.log" % (
        "\n".join("    | " + l for l in r["serial"].splitlines()),
        os.path.relpath(run.dir, TOP), os.path.relpath(run.dir, TOP))
    if r["not_applicable"]:
        raise Skip("not applicable on %s: %s" % (CPU, r["not_applicable"]))
    if r["outcome"] is None:
        raise TestFailure("no `outcome:` line (run %s)%s" % (run.why_stopped(), where))
    if not r["checker_ok"]:
        raise TestFailure("the checker did not name %s (it named: %s)%s"
                          % ("nothing" if rule == "NONE" else rule,
                             ", ".join(r["named"]) or "nothing", where))
    if not r["bochs_ok"]:
        if bochs == "CHECKS":
            raise TestFailure("checker expected `%s`, Bochs did `%s` (Bochs log: %s)%s"
                              % (r["expected"], r["outcome"],
                                 " / ".join(r["bochs_lines"]) or "no VMFAIL/VMENTER line", where))
        raise TestFailure("marked %s in cases.def, but the checker expected `%s` and Bochs did"
                          " `%s` (log: %s): update cases.def%s"
                          % (bochs, r["expected"], r["outcome"],
                             " / ".join(r["bochs_lines"]) or "-", where))




def table_lines(results):
    rows = [("case", "rule named", "Bochs outcome", "agree", "Bochs log line")]
    for number, name, rule, bochs, what in CASES:
        r = results.get(number)
        if r is None:
            rows.append(("%02d %s" % (number, name), "-", "(not run)", "no", ""))
            continue
        named = rule if rule in r["named"] else "(not applicable)" if r["not_applicable"] else ("(0 violations)" if r["count"] == 0 and rule == "NONE"
                                                   else "MISSING: " + (",".join(r["named"]) or "none"))
        bochs = r.get("mark", bochs)
        if r["not_applicable"]:
            agree = "n/a"
        elif bochs == "MISSES":
            agree = "Bochs does not check this" if r["agree"] else "no"
        elif bochs == "DIFFERS":
            agree = "Bochs refuses differently" if r["agree"] else "no"
        else:
            agree = "yes" if r["agree"] else "no"
        log = r["bochs_lines"][0] if r["bochs_lines"] else "-"
        if r["not_applicable"]:
            log = "not applicable on this model: " + r["not_applicable"]
        rows.append(("%02d %s" % (number, name), named, r["outcome"] or "(none)", agree, log))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    out = []
    for i, row in enumerate(rows):
        out.append(" | ".join(row[j].ljust(widths[j]) for j in range(4)) + " | " + row[4])
        if i == 0:
            out.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 14)
    return out


def summarize(cpu, title):
    """Write results/vmentry/<file> for `cpu`; -> (lines, summary, counted, bad)."""
    results = {c[0]: run_case(c, cpu) for c in CASES}
    spans = all_cases(cpu)[1]
    lines = table_lines(results)
    counted = [n for n, _, rule, _, _ in CASES
               if results[n]["mark"] == "CHECKS" and rule != "NONE" and results[n]["agree"]]
    misses = [n for n in results if results[n]["mark"] == "MISSES"]
    differs = [n for n in results if results[n]["mark"] == "DIFFERS"]
    skipped = [n for n in results if results[n]["not_applicable"]]
    bad = [(n, name) for n, name, _, _, _ in CASES
           if not results[n]["agree"] and not results[n]["not_applicable"]]
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    rules = sorted({CASES[n][2] for n in counted})
    summary = ("%s: %d cases: %d agree and count (Bochs checks the rule; %d distinct rules), "
               "%d marked \"Bochs does not check this\", %d \"Bochs refuses differently\", "
               "%d not applicable, %d disagree; %d Bochs runs spanned %.1f s wall"
               % (cpu, len(CASES), len(counted), len(rules), len(misses), len(differs),
                  len(skipped), len(bad), len(spans), wall))
    os.makedirs(RESULTS_DIR, exist_ok=True)
    name = "table.txt" if cpu == CPU else "table-%s.txt" % cpu
    with open(os.path.join(RESULTS_DIR, name), "w") as f:
        f.write("%s\nGenerated by tests/test_vmentry.py; transcripts in results/vmentry-*/\n\n" % title)
        f.write("\n".join(lines) + "\n\n" + summary + "\n")
    return lines, summary, counted, bad


@pytest.mark.vmentry
def test_vmentry_table_checker_vs_bochs_at_least_30_agreeing_cases():
    """vmentry: table (checker vs Bochs, at least 30 agreeing cases)"""
    lines, summary, counted, bad = summarize(
        CPU, "VM-entry differential test: common/vmcheck vs Bochs (%s)" % CPU)
    sys.stdout.write("\n".join(lines) + "\n" + summary + "\n")     # one write: no interleaving
    sys.stdout.flush()
    if bad:
        raise TestFailure("cases that disagree: %s (see results/vmentry/table.txt)"
                          % ", ".join("%02d %s" % b for b in bad))
    if len(counted) < REQUIRED_AGREEING:
        raise TestFailure("only %d agreeing cases that Bochs checks; %d required"
                          % (len(counted), REQUIRED_AGREEING))


@pytest.mark.vmentry
@pytest.mark.parametrize("cpu", OTHER_CPUS)
def test_vmentry_every_case_agrees_on(cpu):
    """vmentry: every case on CPU agrees or is not applicable"""
    lines, summary, counted, bad = summarize(
        cpu, "VM-entry differential test on another model: %s" % cpu)
    sys.stdout.write(summary + "\n")
    sys.stdout.flush()
    if bad:
        raise TestFailure("cases that disagree on %s: %s (see results/vmentry/table-%s.txt)"
                          % (cpu, ", ".join("%02d %s" % b for b in bad), cpu))
    if results_valid(cpu) is not True:
        raise TestFailure("the valid VMCS did not launch on %s" % cpu)


def results_valid(cpu):
    r = all_cases(cpu)[0].get(0)
    return r is not None and r["agree"]




VMCHECK_DIR = os.path.join(TOP, "common", "vmcheck")
SECTIONS = {"26.2.1.1", "26.2.1.2", "26.2.1.3", "26.2.2", "26.2.3", "26.2.4",
            "26.3.1.1", "26.3.1.2", "26.3.1.3", "26.3.1.4", "26.3.1.5", "26.3.1.6", "26.4"}


def rule_table():
    """[(id, section, outcome)] from the VMCHECK_RULE lines of common/vmcheck/*.c,
    and the number of VMCHECK_RULE lines (a line of another shape shows)."""
    rx = re.compile(r'^VMCHECK_RULE(?:_QUALIFIED)?\((\w+), "([^"]+)", (CONTROLS|HOST|GUEST|MSRLOAD),', re.M)
    rules, lines = [], 0
    for path in sorted(glob.glob(os.path.join(VMCHECK_DIR, "*.c"))):
        with open(path) as f:
            text = f.read()
        rules += rx.findall(text)
        lines += len(re.findall(r"^VMCHECK_RULE", text, re.M))
    return rules, lines


def test_vmentry_vmcheck_rule_table_unique_upper_snake_ids_sdm_chapter_26_secti():
    """vmentry: vmcheck rule table: unique upper-snake ids, SDM chapter 26 sections, every case's rule exists"""
    rules, lines = rule_table()
    if len(rules) != lines:
        raise TestFailure("read %d rules from %d VMCHECK_RULE lines of common/vmcheck/*.c: a line "
                          "has an unexpected shape" % (len(rules), lines))
    ids = [r[0] for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise TestFailure("rule ids used twice: %s" % ", ".join(dup))
    bad = [i for i in ids if not re.match(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$", i)]
    if bad:
        raise TestFailure("rule ids not in upper snake case: %s" % ", ".join(bad))
    bad = ["%s (%s)" % (i, sec) for i, sec, _ in rules if sec not in SECTIONS]
    if bad:
        raise TestFailure("sections outside SDM 26.2-26.4 (classic numbering): %s" % ", ".join(bad))
    # The outcome follows the section: 26.2.1 controls, 26.2.2-26.2.4 host,
    # 26.3 guest state, 26.4 MSR loading.
    want = lambda sec: ("CONTROLS" if sec.startswith("26.2.1") else "HOST" if sec.startswith("26.2")
                        else "GUEST" if sec.startswith("26.3") else "MSRLOAD")
    bad = ["%s (%s: %s)" % (i, sec, out) for i, sec, out in rules if out != want(sec)]
    if bad:
        raise TestFailure("rules whose outcome does not match their section: %s" % ", ".join(bad))
    missing = sorted({c[2] for c in CASES if c[2] != "NONE"} - set(ids))
    if missing:
        raise TestFailure("cases.def names rules common/vmcheck/ does not have: %s" % ", ".join(missing))
