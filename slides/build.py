#!/usr/bin/env python3
"""build.py - build the lectures: slides/NN-*.md -> build/slides/NN-*.html and .pdf.

`make slides` runs this (slides/slides.mk). For each deck it

  1. expands the deck's directives (below) into plain Markdown, cutting code
     from the kit's own sources and output from real runs;
  2. draws the figures (slides/figures.py: SVG, from common/vmx/*.def, the
     memory map of common/boot/payload.ld and the kept transcripts);
  3. runs pandoc (Debian's package) with slides/template.html: one
     self-contained HTML file per deck, figures and styles inside it, no
     script or font from the network;
  4. prints each deck to PDF in headless Chromium (slides/chrome.py), one
     page per slide, through the deck's own print style.

It also writes build/slides/manifest.json (per deck: the slide count, every
code excerpt with its file, marker and text, every output block) for
tests/test_slides.py, and build/slides/deps.mk (every file a deck read) for
make.

Directives (each on a line of its own, outside code blocks):

  @code FILE MARKER          the lines of FILE between the marker comments
                             `slide: MARKER` and `end slide` (in the comment
                             syntax of FILE: /* */, //, ;, #). A missing
                             marker stops the build, naming FILE and MARKER.
                             Never from solutions/, never from a solution
                             region (BEGIN SOLUTION .. END SOLUTION).
  @output NAME SEL...        lines of the kept transcript
                             slides/transcripts/NAME.txt (slides/transcripts.py
                             made it from a real run; the tests run it again)
  @vmxinfo ARGS... [-- SEL...]   build/tools/vmxinfo run now with ARGS;
                             {msr:NAME} in ARGS is "NUMBER VALUE" of MSR NAME
                             from the kept transcript msrdump
  @table NAME                a table made from the fact lists (figures.TABLES)

SEL selects lines, in order, each search starting after the previous
selection: /RE/ the first line matching RE, /RE/+N that line and the N after
it, /RE/* every line from there on that matches RE, /RE1/../RE2/ the lines
from RE1 to RE2. Quote a selector that holds spaces ('/^control PROC:/').
Skipped lines between two selections show as "...". A selector that
matches nothing stops the build.

Figures are Markdown images, ![caption](fig/NAME.svg): figures.py draws
every NAME; a deck that names an unknown figure stops the build.

Usage: build.py [--out DIR] [--no-pdf] [--deck NN] [DECK.md ...]
Exit status 0, or 1 with one line per problem (file and what is wrong).
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import facts  # noqa: E402
import figures  # noqa: E402
import transcripts  # noqa: E402

LANG_BY_EXT = {".c": "c", ".h": "c", ".def": "c", ".asm": "nasm", ".py": "python",
               ".mk": "makefile", ".ld": "", ".S": "gnuassembler"}
COMMENT = r"(?:/\*|//|;|#)"
MARK_END = re.compile(r"^\s*%s\s*end slide\s*(?:\*/)?\s*$" % COMMENT)
SOLUTION_MARK = re.compile(r"^\s*%s\s*(BEGIN|END) SOLUTION\b" % COMMENT)


class BuildError(Exception):
    """One problem, said with the file it is in."""


def mark_start(name):
    return re.compile(r"^\s*%s\s*slide:\s*%s\s*(?:\*/)?\s*$" % (COMMENT, re.escape(name)))


# --- Code excerpts -------------------------------------------------------------

def cut(rel, marker):
    """The text between `slide: MARKER` and the next `end slide` in file REL.

    Tabs become spaces (8 columns, as the kit is written), the common
    indentation is removed; other markers inside are dropped."""
    if rel.startswith("solutions/") or "/solutions/" in rel:
        raise BuildError("%s: slides never show solutions/ files (marker %s)" % (rel, marker))
    full = os.path.join(TOP, rel)
    if not os.path.isfile(full):
        raise BuildError("%s: no such file (excerpt marker %s)" % (rel, marker))
    with open(full) as f:
        lines = f.read().splitlines()
    start = mark_start(marker)
    in_solution = False
    begin = None
    for i, line in enumerate(lines):
        m = SOLUTION_MARK.match(line)
        if m:
            in_solution = m.group(1) == "BEGIN"
        if start.match(line):
            if in_solution:
                raise BuildError("%s:%d: marker `slide: %s` is inside a solution region" % (rel, i + 1, marker))
            begin = i
            break
    if begin is None:
        raise BuildError("%s: marker `slide: %s` not found (add the comment `slide: %s` and a "
                         "closing `end slide` around the lines to show)" % (rel, marker, marker))
    body = []
    for j in range(begin + 1, len(lines)):
        if MARK_END.match(lines[j]):
            break
        if SOLUTION_MARK.match(lines[j]):
            raise BuildError("%s:%d: excerpt %s reaches into a solution region" % (rel, j + 1, marker))
        if re.match(r"^\s*%s\s*slide:" % COMMENT, lines[j]):
            continue
        body.append(lines[j].expandtabs(8).rstrip())
    else:
        raise BuildError("%s:%d: marker `slide: %s` has no `end slide` after it" % (rel, begin + 1, marker))
    text = textwrap.dedent("\n".join(body)).strip("\n")
    if not text.strip():
        raise BuildError("%s: excerpt %s is empty" % (rel, marker))
    return text


# --- Output selections ---------------------------------------------------------

SEL_TOKEN = re.compile(r"'?/(?:[^/\\]|\\.)+/(?:\*|\+\d+|\.\./(?:[^/\\]|\\.)+/)?'?")
SEL = re.compile(r"^/(?P<a>.+?)/(?:(?P<star>\*)|\+(?P<n>\d+)|\.\./(?P<b>.+)/)?$")


def select(lines, selectors, where):
    """Lines chosen by SELECTORS (see the file header), "..." between gaps."""
    if not selectors:
        return list(lines)
    out, cursor, last = [], 0, None

    def take(i):
        nonlocal last
        if last is not None and i > last + 1:
            out.append("...")
        out.append(lines[i])
        last = i

    for s in selectors:
        m = SEL.match(s)
        if not m:
            raise BuildError("%s: selector %r is not /RE/, /RE/+N, /RE/* or /RE1/../RE2/" % (where, s))
        rx = re.compile(m.group("a"))
        hits = [i for i in range(cursor, len(lines)) if rx.search(lines[i])]
        if not hits:
            raise BuildError("%s: selector %s matches no line (after line %d)" % (where, s, cursor))
        if m.group("star"):
            for i in hits:
                take(i)
            cursor = hits[-1] + 1
        elif m.group("n"):
            i = hits[0]
            for k in range(i, min(len(lines), i + 1 + int(m.group("n")))):
                take(k)
            cursor = last + 1
        elif m.group("b"):
            rb = re.compile(m.group("b"))
            i = hits[0]
            ends = [k for k in range(i, len(lines)) if rb.search(lines[k])]
            if not ends:
                raise BuildError("%s: selector %s: no line matches the end /%s/" % (where, s, m.group("b")))
            for k in range(i, ends[0] + 1):
                take(k)
            cursor = ends[0] + 1
        else:
            take(hits[0])
            cursor = hits[0] + 1
    return out


# --- A deck ----------------------------------------------------------------------

def fence(text):
    """A backtick fence longer than any run of backticks in TEXT."""
    n = max([3] + [len(r) + 1 for r in re.findall(r"`{3,}", text)])
    return "`" * n


def block(classes, attrs, lang_or_class, text, caption=None, caption_class="source"):
    f = fence(text)
    attr = " ".join('%s="%s"' % (k, v.replace('"', "&quot;")) for k, v in attrs)
    out = ["", "::: {%s %s}" % (" ".join("." + c for c in classes), attr)]
    if caption and caption_class == "command":
        out.append("[%s]{.%s}" % (md_escape(caption), caption_class))
        out.append("")
    out += [f + ("{.%s}" % lang_or_class if lang_or_class else ""), text, f]
    if caption and caption_class != "command":
        out.append("")
        out.append("[%s]{.%s}" % (md_escape(caption), caption_class))
    out += [":::", ""]
    return out


def md_escape(s):
    return re.sub(r"([\\`*_{}\[\]<>#|~$])", r"\\\1", s)


class Deck:
    def __init__(self, path, ctx):
        self.path = path
        self.rel = os.path.relpath(path, TOP)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.ctx = ctx
        self.excerpts, self.outputs, self.figures = [], [], []
        self.slides = 0
        self.title = ""

    def expand(self):
        with open(self.path) as f:
            src = f.read().splitlines()
        out, fence_open = [], None
        for n, line in enumerate(src, 1):
            where = "%s:%d" % (self.rel, n)
            fm = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fm:
                if fence_open is None:
                    fence_open = fm.group(1)
                elif fm.group(1).startswith(fence_open[0]) and len(fm.group(1)) >= len(fence_open):
                    fence_open = None
                out.append(line)
                continue
            if fence_open is None and line.startswith("@"):
                out += self.directive(line, where)
                continue
            if fence_open is None:
                if re.match(r"^## ", line):
                    self.slides += 1
                t = re.match(r"^title:\s*(.+)$", line)
                if t and not self.title:
                    self.title = t.group(1).strip().strip("'\"")
                for fig in re.findall(r"\]\(fig/([\w.-]+)\.svg\)", line):
                    if fig not in figures.FIGURES:
                        raise BuildError("%s: no figure %s (slides/figures.py draws: %s)"
                                         % (where, fig, ", ".join(sorted(figures.FIGURES))))
                    self.figures.append(fig)
            out.append(line)
        if fence_open:
            raise BuildError("%s: a code block is not closed" % self.rel)
        self.slides += 1        # the title slide
        return "\n".join(out) + "\n"

    def directive(self, line, where):
        # Words, then selectors: a selector is /RE/ with an optional tail, and
        # may hold spaces (a / inside RE is written \/); quotes are optional.
        head, sep, rest = line[1:].partition(" /")
        head = line[1:] if not sep else head
        if "--" in head.split():
            head = head.replace(" --", "")
        try:
            words = shlex.split(head)
        except ValueError as e:
            raise BuildError("%s: %s" % (where, e))
        sels = SEL_TOKEN.findall(" /" + rest) if sep else []
        leftover = SEL_TOKEN.sub("", " /" + rest).replace("'", "").strip() if sep else ""
        if leftover:
            raise BuildError("%s: cannot read the selectors near %r" % (where, leftover))
        kind, args = words[0], words[1:] + [s.strip("'") for s in sels]
        if kind == "code":
            if len(args) != 2:
                raise BuildError("%s: @code FILE MARKER" % where)
            rel, marker = args
            try:
                text = cut(rel, marker)
            except BuildError as e:
                raise BuildError("%s: %s" % (where, e))
            self.ctx["deps"].add(rel)
            self.excerpts.append({"file": rel, "marker": marker, "text": text})
            lang = LANG_BY_EXT.get(os.path.splitext(rel)[1], "")
            return block(["excerpt"], [("file", rel), ("marker", marker)], lang, text,
                         caption="%s (%s)" % (rel, marker))
        if kind == "output":
            if not args:
                raise BuildError("%s: @output NAME [SELECTORS]" % where)
            name, sels = args[0], args[1:]
            if name not in transcripts.TRANSCRIPTS:
                raise BuildError("%s: no transcript %s (slides/transcripts.py knows: %s)"
                                 % (where, name, ", ".join(sorted(transcripts.TRANSCRIPTS))))
            cmd, lines = transcripts.load(name)
            self.ctx["deps"].add(os.path.relpath(transcripts.path(name), TOP))
            chosen = select(lines, sels, "%s (transcript %s)" % (where, name))
            self.outputs.append({"transcript": name, "command": cmd, "lines": chosen})
            return block(["output"], [("transcript", name)], "output", "\n".join(chosen),
                         caption="$ " + cmd, caption_class="command")
        if kind == "vmxinfo":
            sels = [a for a in args if a.startswith("/")]
            args = [a for a in args if not a.startswith("/")]
            args = " ".join(self.msr_arg(a, where) for a in args).split()
            exe = self.ctx["vmxinfo"]
            self.ctx["deps"].add(os.path.relpath(exe, TOP) if exe.startswith(TOP) else exe)
            try:
                p = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True, timeout=30)
            except OSError as e:
                raise BuildError("%s: cannot run %s (make builds it: make vmxinfo): %s" % (where, exe, e))
            if p.returncode != 0:
                raise BuildError("%s: vmxinfo %s failed: %s" % (where, " ".join(args), p.stdout.strip()))
            lines = p.stdout.splitlines()
            chosen = select(lines, sels, "%s (vmxinfo %s)" % (where, " ".join(args)))
            cmd = "build/tools/vmxinfo " + " ".join(args)
            self.outputs.append({"vmxinfo": args, "command": cmd, "lines": chosen})
            return block(["output"], [("vmxinfo", " ".join(args))], "output", "\n".join(chosen),
                         caption="$ " + cmd, caption_class="command")
        if kind == "table":
            if len(args) != 1 or args[0] not in figures.TABLES:
                raise BuildError("%s: @table NAME, NAME one of %s" % (where, ", ".join(sorted(figures.TABLES))))
            return [""] + figures.TABLES[args[0]]().splitlines() + [""]
        raise BuildError("%s: unknown directive @%s (@code, @output, @vmxinfo, @table)" % (where, kind))

    def msr_arg(self, a, where):
        def repl(m):
            _, lines = transcripts.load("msrdump")
            for l in lines:
                parts = l.split()
                if len(parts) == 3 and parts[1] == m.group(1):
                    return "%s %s" % (parts[0], parts[2])
            raise BuildError("%s: MSR %s has no value in transcript msrdump" % (where, m.group(1)))
        return re.sub(r"\{msr:(\w+)\}", repl, a)


def pandoc(md_path, html_path, out_dir):
    cmd = ["pandoc", "--from", "markdown+fenced_divs+bracketed_spans",
           "--to", "html5", "--section-divs", "--standalone",
           "--template", os.path.join(HERE, "template.html"),
           "--self-contained", "--resource-path", out_dir,
           "--highlight-style", "tango",
           "--metadata", "lang=en",
           "-o", html_path, md_path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError:
        raise BuildError("pandoc not found: `make deps` installs Debian's package pandoc")
    if p.returncode != 0 or "[WARNING]" in p.stdout:
        raise BuildError("pandoc %s: %s" % (os.path.relpath(md_path, TOP), p.stdout.strip()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(TOP, "build", "slides"))
    ap.add_argument("--no-pdf", action="store_true", help="HTML only")
    ap.add_argument("--vmxinfo", default=os.path.join(TOP, "build", "tools", "vmxinfo"))
    ap.add_argument("decks", nargs="*", help="deck files (default: slides/[0-9][0-9]-*.md)")
    a = ap.parse_args(argv)
    out = os.path.abspath(a.out)
    decks = a.decks or sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                              if re.match(r"^\d\d-[\w-]+\.md$", f))
    ctx = {"deps": set(), "vmxinfo": os.path.abspath(a.vmxinfo)}
    os.makedirs(os.path.join(out, "fig"), exist_ok=True)
    os.makedirs(os.path.join(out, "md"), exist_ok=True)
    try:
        # Figures first: the decks refer to them.
        for name, draw in sorted(figures.FIGURES.items()):
            svg = draw()
            with open(os.path.join(out, "fig", name + ".svg"), "w") as f:
                f.write(svg)
        built = []
        for path in decks:
            d = Deck(os.path.abspath(path), ctx)
            ctx["deps"].add(d.rel)
            md = d.expand()
            md_path = os.path.join(out, "md", d.name + ".md")
            with open(md_path, "w") as f:
                f.write(md)
            html = os.path.join(out, d.name + ".html")
            pandoc(md_path, html, out)
            built.append(d)
    except BuildError as e:
        print("slides: error: %s" % e, file=sys.stderr)
        return 1
    except (KeyError, ValueError, OSError) as e:
        print("slides: error: %s" % e, file=sys.stderr)
        return 1

    if not a.no_pdf:
        import chrome
        try:
            with chrome.Chrome() as c:
                for d in built:
                    page = c.open("file://" + os.path.join(out, d.name + ".html"))
                    page.pdf(os.path.join(out, d.name + ".pdf"))
                    page.call("Page.close")
        except chrome.ChromeError as e:
            print("slides: error: printing the PDFs: %s" % e, file=sys.stderr)
            return 1

    manifest = {"decks": [{
        "name": d.name, "title": d.title, "source": d.rel,
        "html": os.path.join(out, d.name + ".html"),
        "pdf": None if a.no_pdf else os.path.join(out, d.name + ".pdf"),
        "slides": d.slides, "excerpts": d.excerpts, "outputs": d.outputs,
        "figures": sorted(set(d.figures)),
    } for d in built]}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    deps = sorted(ctx["deps"] | facts.FILES | {"slides/template.html"})
    with open(os.path.join(out, "deps.mk"), "w") as f:
        f.write("# written by slides/build.py: what the decks were made from\n")
        f.write("SLIDES_INPUTS := %s\n" % " ".join(deps))
    for d in built:
        print("slides: %s: %d slides, %d code excerpts, %d output blocks -> %s"
              % (d.name, d.slides, len(d.excerpts), len(d.outputs),
                 os.path.relpath(os.path.join(out, d.name + (".html" if a.no_pdf else ".{html,pdf}")), TOP)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
