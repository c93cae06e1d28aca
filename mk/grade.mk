# mk/grade.mk - grading, starters and the student handout.
#
#   make grade [LAB=NN] [SUBMISSION=DIR] [SOLUTION=1]
#       grade one lab (or every lab that has a grader, tests/grade/labNN.py).
#       The student files come from your lab folder, from DIR (a lab folder or
#       a student folder holding labNN-*/), or from solutions/ (SOLUTION=1).
#       Only the files the lab lists are taken, into a fresh copy of the kit
#       under build/grade/ (KEEP=1 keeps it); logs go to results/grade/.
#       Exit 1 below full marks.
#   make grade-class SUBMISSIONS=DIR [LAB=NN] [JOBS=N]
#       one folder per student in DIR; writes results/grade-class/grades.csv
#       and grades.json, and each student's logs in results/grade-class/<student>/.
#   make check-starters   every labNN-*/ starter equals its solution with the
#                         marked regions replaced (docs/CONTRACTS.md, "Starters")
#   make starters         regenerate the starters from solutions/
#   make handout          build/handout/vmxlab-handout.tar.gz, without solutions/

GRADE_DRIVER := $(PYTHON) tests/grade/driver.py
STARTERS_TOOL := $(PYTHON) tools/starters/starters.py
HANDOUT := $(BUILD)/handout/vmxlab-handout.tar.gz

ifneq ($(JOBS),)
ifeq ($(shell echo '$(JOBS)' | grep -xE '[1-9][0-9]*'),)
$(error JOBS=$(JOBS) must be a positive whole number (gradings run at a time))
endif
endif

$(call help-line,grade        grade the labs (LAB=NN one lab; SUBMISSION=DIR a student's files; SOLUTION=1))
$(call help-line,grade-class  grade a class: SUBMISSIONS=DIR with one folder per student (grades.csv/json))
$(call help-line,check-starters  prove every lab starter is its solution with the TODO regions replaced)
$(call help-line,starters     regenerate the lab starters from solutions/)
$(call help-line,handout      the student kit: $(HANDOUT) (no solutions))
$(call help-line,gradescope   LAB=NN: build/gradescope/labNN/autograder.zip$(comma) Gradescope's autograder bundle)

.PHONY: grade grade-class check-starters starters handout gradescope

# UNSANDBOXED=1: grade without the bubblewrap sandbox, on a machine that
# cannot make one (tests/lib/sandbox.py says how to allow it); the report
# says the grading ran unsandboxed. Meant for a student's own tree.
UNSANDBOXED ?= 0
ifeq ($(filter $(UNSANDBOXED),0 1),)
$(error UNSANDBOXED=$(UNSANDBOXED) must be 0 (grade in the sandbox) or 1 (without it: your own tree only))
endif
GRADE_ISOLATION := $(if $(filter 1,$(UNSANDBOXED)),--unsandboxed)

grade: deps
	@$(GRADE_DRIVER) grade $(if $(LAB),--lab $(LAB)) \
		$(if $(SUBMISSION),--submission '$(SUBMISSION)') $(if $(filter 1,$(SOLUTION)),--solution) \
		$(if $(filter 1,$(KEEP)),--keep) $(GRADE_ISOLATION)

grade-class: deps
	@$(if $(SUBMISSIONS),,echo "error: make grade-class needs SUBMISSIONS=DIR (one folder per student)" >&2; exit 2)
	@$(GRADE_DRIVER) class '$(SUBMISSIONS)' $(if $(LAB),--lab $(LAB)) $(if $(JOBS),--jobs $(JOBS)) \
		$(if $(filter 1,$(KEEP)),--keep) $(GRADE_ISOLATION)

check-starters:
	@$(STARTERS_TOOL) check

starters:
	@$(STARTERS_TOOL) generate

handout:
	@$(STARTERS_TOOL) handout $(HANDOUT)

# The Gradescope autograder bundle of one lab (tools/gradescope/bundle.py).
gradescope:
	@$(if $(LAB),,echo "error: make gradescope needs LAB=NN (one bundle per lab)" >&2; exit 2)
	@$(PYTHON) tools/gradescope/bundle.py --lab $(LAB)
