"""test_slides.py - the lectures in slides/: built, rendered in a real browser, checked.

`make slides` builds every deck (slides/NN-*.md) into self-contained HTML and
a PDF. These tests build them once, open each deck in headless Chromium
(Debian's package, driven through the DevTools protocol by
slides/chrome.py), and check what a student would see:

  * the number of slides of each deck, the same in the Markdown, the page
    and the PDF (one page per slide, pdfinfo from poppler-utils);
  * that nothing on any slide leaves its 1280 x 720 frame or runs into the
    footer (every element and every text box measured in the page);
  * that every code excerpt is on its slide, identical to the lines between
    its markers in the kit's source (cut again here, independently), and
    never from solutions/ or a solution region;
  * that every output block comes from a kept transcript, and that every
    kept transcript matches a real run of its command now;
  * that each deck ends with its exercises and the command that starts the
    lab; that the figures are drawn; that a missing marker stops the build
    with the file and the marker named.

Screenshots of a sample of slides per deck are kept in results/slides/.

Run: python3 -m pytest tests/test_slides.py (about a minute on 2 cores: the
real runs boot Bochs seven times and Debian's kernel in QEMU twice).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import struct
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(TOP, "build", "slides")
SHOTS = os.path.join(TOP, "results", "slides")
sys.path.insert(0, os.path.join(TOP, "slides"))

import chrome  # noqa: E402  (slides/chrome.py)
import transcripts  # noqa: E402  (slides/transcripts.py)

# Slides per deck, title slide included. A deck that gains or loses a slide
# changes this line on purpose.
EXPECTED_SLIDES = {
    "00-intro": 12,
    "01-vmxmsrs": 13,
    "02-sysregs": 11,
    "03-vmcs-setup": 16,
    "04-vm86-guest": 13,
    "05-ept-vpid": 19,
}
# The command that starts each deck's lab, on its last slide.
START_COMMAND = {
    "00-intro": "make run",
    "01-vmxmsrs": "make run-lab01",
    "02-sysregs": "make run-lab02",
    "03-vmcs-setup": "make run-lab03",
    "04-vm86-guest": "make run-lab04",
    "05-ept-vpid": "make run-lab05",
}
# Pictures the course promises, and the deck each is in.
REQUIRED_FIGURES = {
    "vmcs-encoding": "03-vmcs-setup", "vmcs-groups": "03-vmcs-setup", "cr0-view": "04-vm86-guest",
    "cap-rule": "01-vmxmsrs", "ept-walk": "05-ept-vpid", "monitor-map": "05-ept-vpid",
}

MEASURE_JS = r"""
(() => {
  const slides = Array.from(document.querySelectorAll("section.title-slide, section.level2"));
  const out = [];
  for (const s of slides) {
    const r = s.getBoundingClientRect();
    const foot = s.querySelector(".footer");
    const limit = foot ? foot.getBoundingClientRect().top : r.bottom;
    const problems = [];
    const check = (b, what, inFooter) => {
      if (b.width === 0 && b.height === 0) return;
      const bottom = inFooter ? r.bottom : limit;
      if (b.left < r.left - 0.5 || b.top < r.top - 0.5 || b.right > r.right - 8 + 0.5 || b.bottom > bottom + 0.5)
        problems.push(what + " at (" + [b.left - r.left, b.top - r.top, b.right - r.left, b.bottom - r.top]
                      .map(Math.round).join(", ") + ")");
    };
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = walker.currentNode; n; n = walker.nextNode()) {
      const el = n.nodeType === 1 ? n : n.parentElement;
      const inFooter = !!el.closest(".footer");
      if (n.nodeType === 3) {
        if (!n.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const b of range.getClientRects())
          check(b, "text '" + n.textContent.trim().slice(0, 40) + "'", inFooter);
      } else if (n !== s) {
        const cs = getComputedStyle(n);
        if (cs.display === "none" || cs.visibility === "hidden") continue;
        const tag = "<" + n.tagName.toLowerCase() + (n.className && typeof n.className === "string" ? "." + n.className : "") + ">";
        check(n.getBoundingClientRect(), tag, inFooter);
        if (cs.display !== "inline" && n.clientWidth > 0 && n.scrollWidth > n.clientWidth + 1)
          problems.push(tag + " content wider than its box (" + n.scrollWidth + " > " + n.clientWidth + ")");
      }
    }
    const h = s.querySelector("h2, h1");
    out.push({title: h ? h.textContent.trim() : "", text: s.innerText,
              x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height,
              has_figure: !!s.querySelector("figure img"), has_excerpt: !!s.querySelector("div.excerpt"),
              problems: problems});
  }
  const excerpts = Array.from(document.querySelectorAll("div.excerpt")).map(d => ({
    file: d.getAttribute("data-file"), marker: d.getAttribute("data-marker"),
    text: d.querySelector("pre").innerText}));
  const outputs = Array.from(document.querySelectorAll("div.output pre")).map(p => p.innerText);
  const images = Array.from(document.querySelectorAll("img")).map(i => ({
    src: i.getAttribute("src").slice(0, 40), alt: i.getAttribute("alt"), width: i.naturalWidth,
    complete: i.complete}));
  return {slides: out, excerpts: excerpts, outputs: outputs, images: images,
          scripts: Array.from(document.scripts).filter(s => s.src).map(s => s.src)};
})()
"""


@contextlib.contextmanager
def locked(name):
    """One holder at a time across processes (pytest-xdist workers share the tree)."""
    os.makedirs(os.path.join(TOP, "build"), exist_ok=True)
    with open(os.path.join(TOP, "build", ".slides-test-%s.lock" % name), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def make_slides_command():
    """`make slides`; until GNUmakefile includes slides/*.mk, name the fragment."""
    with open(os.path.join(TOP, "GNUmakefile")) as f:
        included = "slides/" in f.read()
    return ["make", "slides"] if included else ["make", "-f", "GNUmakefile", "-f", "slides/slides.mk", "slides"]


@pytest.fixture(scope="session")
def built():
    """Every deck built (once: the next caller finds make's stamp up to date)."""
    with locked("build"):
        p = subprocess.run(make_slides_command(), cwd=TOP, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    assert p.returncode == 0, "make slides failed:\n" + p.stdout[-3000:]
    with open(os.path.join(OUT, "manifest.json")) as f:
        manifest = json.load(f)
    return {d["name"]: d for d in manifest["decks"]}


def deck_digest(decks):
    h = hashlib.sha256()
    for name in sorted(decks):
        with open(decks[name]["html"], "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def screenshot_sample(page, name, slides):
    """The title slide, the first figure, the first code excerpt, the last slide."""
    picks = {0, len(slides) - 1}
    for key in ("has_figure", "has_excerpt"):
        for i, s in enumerate(slides):
            if s[key]:
                picks.add(i)
                break
    files = []
    for i in sorted(picks):
        s = slides[i]
        path = os.path.join(SHOTS, "%s-s%02d.png" % (name, i + 1))
        page.screenshot(path, (s["x"], s["y"], s["w"], s["h"]))
        files.append(path)
    return files


@pytest.fixture(scope="session")
def rendered(built):
    """Each deck opened in Chromium (?stack: every slide laid out), measured and
    sampled; kept in results/slides/render.json for the other workers."""
    cache = os.path.join(SHOTS, "render.json")
    digest = deck_digest(built)
    with locked("render"):
        if os.path.exists(cache):
            with open(cache) as f:
                data = json.load(f)
            if data.get("digest") == digest and all(os.path.exists(p) for d in data["decks"].values()
                                                    for p in d["screenshots"]):
                return data["decks"]
        os.makedirs(SHOTS, exist_ok=True)
        decks = {}
        with chrome.Chrome() as c:
            for name, d in sorted(built.items()):
                page = c.open("file://%s?stack" % d["html"])
                r = page.eval(MEASURE_JS)
                r["screenshots"] = screenshot_sample(page, name, r["slides"])
                decks[name] = r
                page.call("Page.close")
        with open(cache + ".tmp", "w") as f:
            json.dump({"digest": digest, "decks": decks}, f)
        os.replace(cache + ".tmp", cache)
        return decks


# --- Built -----------------------------------------------------------------------

def test_every_deck_is_built_as_html_and_pdf(built):
    assert sorted(built) == sorted(EXPECTED_SLIDES), "decks built: %s" % sorted(built)
    for name, d in built.items():
        assert os.path.getsize(d["html"]) > 10000, "%s: HTML is nearly empty" % d["html"]
        with open(d["pdf"], "rb") as f:
            assert f.read(5) == b"%PDF-", "%s is not a PDF" % d["pdf"]


def test_html_needs_nothing_from_the_network(built):
    """Self-contained: no address to fetch a script, style, font or image from."""
    for name, d in built.items():
        with open(d["html"]) as f:
            html = f.read()
        fetched = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+""", html, re.I)
        fetched += re.findall(r"""url\(\s*["']?(?:https?:)?//[^)]+\)""", html, re.I)
        fetched += re.findall(r"""@import[^;]+;""", html)
        fetched += re.findall(r"""<link[^>]+rel=["']?stylesheet[^>]*>""", html, re.I)
        assert not fetched, "%s would fetch: %s" % (name, fetched[:5])
        for src in re.findall(r"""<img[^>]+src=["']([^"']+)""", html):
            assert src.startswith("data:image/"), "%s: image %s is not embedded" % (name, src[:60])


def test_slide_counts_agree_in_markdown_page_and_pdf(built, rendered):
    for name, expected in EXPECTED_SLIDES.items():
        with open(os.path.join(TOP, built[name]["source"])) as f:
            src = f.read()
        src = re.sub(r"^(```|~~~).*?^\1", "", src, flags=re.M | re.S)     # no code blocks
        in_markdown = 1 + len(re.findall(r"^## ", src, re.M))
        in_page = len(rendered[name]["slides"])
        pages = subprocess.run(["pdfinfo", built[name]["pdf"]], stdout=subprocess.PIPE,
                               universal_newlines=True, check=True).stdout
        in_pdf = int(re.search(r"^Pages:\s+(\d+)", pages, re.M).group(1))
        assert (in_markdown, built[name]["slides"], in_page, in_pdf) == (expected,) * 4, \
            "%s: %d slides expected; Markdown %d, build %d, page %d, PDF %d pages" % (
                name, expected, in_markdown, built[name]["slides"], in_page, in_pdf)


def test_pdf_pages_are_slide_sized(built):
    for name, d in built.items():
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", d["pdf"]], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
        sizes = set(re.findall(r"Page\s+\d+ size:\s+([\d.]+ x [\d.]+) pts", info))
        # 1280 x 720 CSS pixels = 960 x 540 points.
        assert sizes == {"960 x 540"}, "%s: page sizes %s" % (name, sizes)


# --- Rendered ----------------------------------------------------------------------

def test_nothing_overflows_a_slide(rendered):
    bad = ["%s slide %d (%s): %s" % (name, i + 1, s["title"], "; ".join(s["problems"][:3]))
           for name, r in sorted(rendered.items()) for i, s in enumerate(r["slides"]) if s["problems"]]
    assert not bad, "content outside the slide frame:\n" + "\n".join(bad)


def test_no_script_is_loaded_from_elsewhere(rendered):
    for name, r in rendered.items():
        assert r["scripts"] == [], "%s loads %s" % (name, r["scripts"])


def test_figures_are_drawn(built, rendered):
    for fig, deck in REQUIRED_FIGURES.items():
        assert fig in built[deck]["figures"], "%s does not show fig/%s.svg" % (deck, fig)
    for name, r in rendered.items():
        for img in r["images"]:
            assert img["complete"] and img["width"] > 300, "%s: figure %r did not load" % (name, img["alt"])
        assert len(r["images"]) >= len(built[name]["figures"]), "%s: %d images for figures %s" % (
            name, len(r["images"]), built[name]["figures"])


def test_each_deck_ends_with_exercises_and_the_start_command(rendered):
    for name, r in rendered.items():
        last = r["slides"][-1]
        assert last["title"].startswith("Exercises"), "%s ends with %r" % (name, last["title"])
        assert START_COMMAND[name] in last["text"], "%s: the last slide lacks %r" % (name, START_COMMAND[name])
        assert START_COMMAND[name] in r["slides"][0]["text"], "%s: the title slide lacks %r" % (
            name, START_COMMAND[name])


def test_lab05_deck_shows_the_lab_s_own_code(built, rendered):
    text = "\n".join(s["text"] for s in rendered["05-ept-vpid"]["slides"])
    assert "to come" not in text
    files = {e["file"] for e in built["05-ept-vpid"]["excerpts"]}
    assert {"lab05-ept/ept.c", "common/monitor/stats.h"} <= files, files
    for f in files:
        assert os.path.isfile(os.path.join(TOP, f)), f


def test_screenshots_are_kept(rendered):
    for name, r in rendered.items():
        assert len(r["screenshots"]) >= 2, name
        for path in r["screenshots"]:
            with open(path, "rb") as f:
                head = f.read(24)
            assert head[:8] == b"\x89PNG\r\n\x1a\n", path
            assert struct.unpack(">II", head[16:24]) == (1280, 720), "%s is not 1280 x 720" % path


# --- Code excerpts -------------------------------------------------------------------

def cut_again(rel, marker):
    """The lines between `slide: MARKER` and `end slide` (written here again,
    not imported from slides/build.py, so the two can check each other)."""
    with open(os.path.join(TOP, rel)) as f:
        lines = f.read().splitlines()
    start = [i for i, l in enumerate(lines) if re.search(r"^\s*(/\*|//|;|#)\s*slide:\s*%s\b" % re.escape(marker), l)]
    assert len(start) == 1, "%s: marker %s found %d times" % (rel, marker, len(start))
    body = []
    for l in lines[start[0] + 1:]:
        if re.search(r"^\s*(/\*|//|;|#)\s*end slide", l):
            break
        if not re.search(r"^\s*(/\*|//|;|#)\s*slide:", l):
            body.append(l.expandtabs(8).rstrip())
    indent = min(len(l) - len(l.lstrip()) for l in body if l.strip())
    return [l[indent:] for l in body]


def solution_lines():
    """Every line inside a BEGIN SOLUTION ... END SOLUTION region of solutions/."""
    out = set()
    for root, _, files in os.walk(os.path.join(TOP, "solutions")):
        for fn in files:
            try:
                with open(os.path.join(root, fn)) as f:
                    inside = False
                    for l in f:
                        if "BEGIN SOLUTION" in l:
                            inside = True
                        elif "END SOLUTION" in l:
                            inside = False
                        elif inside and len(l.strip()) > 12 and "STARTER:" not in l:
                            out.add(l.strip())
            except UnicodeDecodeError:
                pass
    return out


def test_every_code_excerpt_is_on_its_slide_as_in_the_source(built, rendered):
    total = 0
    for name, d in built.items():
        shown = {(e["file"], e["marker"]): e["text"] for e in rendered[name]["excerpts"]}
        assert len(shown) == len(d["excerpts"]), "%s: %d excerpts built, %d on the page" % (
            name, len(d["excerpts"]), len(shown))
        for e in d["excerpts"]:
            want = [l for l in cut_again(e["file"], e["marker"])]
            on_page = [l.rstrip() for l in shown[(e["file"], e["marker"])].rstrip("\n").split("\n")]
            assert on_page == [l for l in "\n".join(want).strip("\n").split("\n")], \
                "%s: excerpt %s (%s) differs from the source" % (name, e["marker"], e["file"])
            total += 1
    assert total >= 12, "only %d code excerpts in all the decks" % total


def test_no_excerpt_comes_from_a_solution(built):
    secret = solution_lines()
    for name, d in built.items():
        for e in d["excerpts"]:
            assert not e["file"].startswith("solutions/"), e
            with open(os.path.join(TOP, e["file"])) as f:
                assert "BEGIN SOLUTION" not in f.read(), "%s: %s has solution regions" % (name, e["file"])
            leaked = [l for l in e["text"].splitlines() if l.strip() in secret]
            assert not leaked, "%s: excerpt %s shows solution lines: %s" % (name, e["marker"], leaked)


def test_a_missing_marker_stops_the_build_and_names_it(tmp_path):
    deck = tmp_path / "99-broken.md"
    deck.write_text("---\ntitle: broken\n---\n\n## A slide\n\n@code common/vmm/machine.c no-such-marker\n")
    p = subprocess.run([sys.executable, "slides/build.py", "--no-pdf", "--out", str(tmp_path / "out"), str(deck)],
                       cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert p.returncode == 1
    assert "common/vmm/machine.c" in p.stdout and "no-such-marker" in p.stdout, p.stdout


def test_an_excerpt_from_solutions_is_refused(tmp_path):
    deck = tmp_path / "98-leak.md"
    deck.write_text("---\ntitle: leak\n---\n\n## A slide\n\n@code solutions/lab03-vmcs-setup/vmxstep3.c control-needs\n")
    p = subprocess.run([sys.executable, "slides/build.py", "--no-pdf", "--out", str(tmp_path / "out"), str(deck)],
                       cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert p.returncode == 1 and "solutions/" in p.stdout, p.stdout


# --- Program output ---------------------------------------------------------------------

def test_output_blocks_are_lines_of_kept_transcripts(built, rendered):
    for name, d in built.items():
        assert len(rendered[name]["outputs"]) == len(d["outputs"]), name
        for block, page_text in zip(d["outputs"], rendered[name]["outputs"]):
            assert page_text.rstrip("\n").split("\n") == block["lines"], "%s: output block differs on the page" % name
            if "transcript" not in block:
                continue                       # vmxinfo: run by the build itself
            _, kept = transcripts.load(block["transcript"])
            pos = 0
            for line in block["lines"]:
                if line == "...":
                    continue
                assert line in kept[pos:], "%s: %r is not in transcript %s (in order)" % (
                    name, line, block["transcript"])
                pos = kept.index(line, pos) + 1


@pytest.fixture(scope="session")
def real_runs():
    """Every transcript's command run now, once per test session (the result
    is shared with the other pytest-xdist workers through a file)."""
    session = os.environ.get("VMXLAB_TEST_SESSION") or "pid%d" % os.getpid()
    report = os.path.join(TOP, "results", "slides", "transcripts-%s.json" % session)
    with locked("transcripts"):
        for old in os.listdir(os.path.dirname(report)) if os.path.isdir(os.path.dirname(report)) else []:
            if old.startswith("transcripts-") and old != os.path.basename(report):
                os.unlink(os.path.join(os.path.dirname(report), old))     # an earlier session's
        if not os.path.exists(report):
            p = subprocess.run([sys.executable, "slides/transcripts.py", "--check", "--json", report],
                               cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=900)
            if not os.path.exists(report):
                pytest.fail("slides/transcripts.py --check wrote no report:\n" + p.stdout[-3000:])
        with open(report) as f:
            return json.load(f)


@pytest.mark.parametrize("name", sorted(transcripts.TRANSCRIPTS))
def test_kept_transcript_matches_a_real_run(real_runs, name):
    r = real_runs[name]
    assert r["ok"], "slides/transcripts/%s.txt: %s" % (name, r["why"])
