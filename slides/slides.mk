# slides/slides.mk - the lectures: slides/NN-*.md -> build/slides/NN-*.html and .pdf
#
#   make slides              every deck, as one self-contained HTML file
#                            (works offline: styles, script and figures inside)
#                            and as a PDF with one page per slide
#   make slides-transcripts  run again the commands whose output the slides
#                            show, and rewrite slides/transcripts/*.txt
#
# slides/build.py does the work (its header lists the directives a deck may
# use): code cut from the kit's sources by marker, output from kept
# transcripts of real runs (slides/transcripts.py), figures drawn from the
# fact lists (slides/figures.py), pandoc for the HTML, headless Chromium for
# the PDF. No Bochs run and no Linux kernel is needed to build the slides;
# tests/test_slides.py checks the transcripts against real runs.
#
# The decks are rebuilt when anything they were made from changes: the
# build writes that list to build/slides/deps.mk.

SLIDES_OUT     := $(BUILD)/slides
SLIDES_STAMP   := $(SLIDES_OUT)/.built
SLIDES_VMXINFO := $(or $(VMXINFO),$(BUILD)/tools/vmxinfo)
SLIDES_INPUTS  :=
-include $(SLIDES_OUT)/deps.mk
SLIDES_SOURCES := $(sort $(wildcard slides/*.md slides/*.py slides/template.html slides/transcripts/*.txt) \
	$(filter-out $(SLIDES_VMXINFO),$(wildcard $(SLIDES_INPUTS))))

$(call help-line,slides       the lectures as self-contained HTML and PDF (build/slides/))

.PHONY: slides slides-transcripts

slides: deps $(SLIDES_STAMP)
	@echo "slides: build/slides/*.html and *.pdf (open one in a browser; arrow keys move)"

$(SLIDES_STAMP): $(SLIDES_SOURCES) $(SLIDES_VMXINFO)
	@mkdir -p $(@D)
	@$(PYTHON) slides/build.py --out $(SLIDES_OUT) --vmxinfo $(SLIDES_VMXINFO)
	@touch $@

# Without tools/vmxinfo/tool.mk (a copy of the kit without it), build it here.
ifeq ($(VMXINFO),)
$(SLIDES_VMXINFO): tools/vmxinfo/vmxinfo.c
	@mkdir -p $(@D)
	gcc -std=gnu11 -O2 -Wall -Icommon/include $< -o $@
endif

slides-transcripts: deps
	@$(PYTHON) slides/transcripts.py --update
