"""tests/grade - the labs' graders and the grading driver.

    labNN.py      one lab's grader (owned by the lab): `lab = Lab("NN", ...)`
                  declares the student files, the build, the runs and the
                  checks (docs/CONTRACTS.md, "Graders"; engine: tests/lib/gradelib.py)
    hidden/       instructor-only checks, `extend(lab)`; left out of the handout
    driver.py     `make grade` and `make grade-class`
    fixtures/     what the grading tests and benchmarks grade (not labs):
                  toykit/ (a boot-sector kit of its own), bmlab/ and kmodlab/
                  (a bare-metal and a kernel-module lab laid over the real kit)

Graders are loaded by path (gradelib.load_lab), not imported as a package:
this file only marks the folder.
"""
