"""chrome.py - drive headless Chromium through the DevTools protocol, over a pipe.

Used by slides/build.py (one PDF per deck) and tests/test_slides.py
(screenshots, slide counts, overflow measurements). Debian's `chromium`
package is the browser; nothing else is needed: with --remote-debugging-pipe
Chromium reads protocol messages on file descriptor 3 and writes its answers
on file descriptor 4, each message a JSON text ended by a NUL byte. No port
is opened and no websocket library is needed.

    with Chrome() as c:
        page = c.open("file:///.../03-vmcs-setup.html?stack")
        n = page.eval("document.querySelectorAll('section.slide').length")
        page.pdf("/tmp/deck.pdf")
        page.screenshot("/tmp/s1.png", clip=(0, 0, 1280, 720))

The protocol itself: https://chromedevtools.github.io/devtools-protocol/
(Target, Page, Runtime and Emulation domains).
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

# Debian's /usr/bin/chromium is a shell wrapper; the binary behind it takes
# the same flags and starts a little faster.
CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")

# The slide frame: every deck is drawn on 1280 x 720 CSS pixels (16:9).
WIDTH, HEIGHT = 1280, 720


class ChromeError(Exception):
    """Chromium missing, dead, or a protocol call that failed (message says which)."""


def binary():
    """The Chromium executable, or raise ChromeError naming the package."""
    for c in CANDIDATES:
        path = c if os.path.isabs(c) else shutil.which(c)
        if path and os.access(path, os.X_OK):
            return path
    raise ChromeError("no Chromium found (tried %s): `make deps` installs Debian's "
                      "package chromium" % ", ".join(CANDIDATES))


class Page:
    """One tab, attached with its own protocol session."""

    def __init__(self, chrome, session):
        self.chrome, self.session = chrome, session

    def call(self, method, timeout=60, **params):
        return self.chrome.call(method, params, session=self.session, timeout=timeout)

    def navigate(self, url, timeout=60):
        """Load URL and wait for its load event (fonts and images are in by then)."""
        self.call("Page.navigate", url=url)
        self.chrome.wait_event("Page.loadEventFired", self.session, timeout)
        # Web fonts: none are used, but wait for the system fonts' layout too.
        self.eval("document.fonts.ready.then(() => true)", await_promise=True)

    def eval(self, expression, await_promise=False):
        """The value of a JavaScript expression (JSON-serialisable)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise ChromeError("JavaScript error: %s" % d.get("exception", {}).get("description", d))
        return r["result"].get("value")

    def screenshot(self, path, clip):
        """A PNG of the page area clip = (x, y, width, height), at scale 1."""
        x, y, w, h = clip
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                      clip={"x": x, "y": y, "width": w, "height": h, "scale": 1})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def pdf(self, path):
        """Print the page with its own @page size (one slide per page)."""
        r = self.call("Page.printToPDF", timeout=120, printBackground=True,
                      preferCSSPageSize=True, displayHeaderFooter=False,
                      marginTop=0, marginBottom=0, marginLeft=0, marginRight=0)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))


class Chrome:
    """A headless Chromium for the length of a `with` block."""

    def __init__(self):
        self.proc = None
        self.next_id = 0
        self.events = []
        self.buf = b""

    def __enter__(self):
        exe = binary()
        self.profile = tempfile.mkdtemp(prefix="vmxlab-chrome-")
        # Our fd 3 is Chromium's input, our fd 4 its output.
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Move both out of the way first: one of them may be fd 3 or 4.
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        cmd = [exe, "--headless", "--remote-debugging-pipe",
               "--no-sandbox",                  # CI runs as root
               "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", "--force-color-profile=srgb",
               "--font-render-hinting=none",    # the same glyph widths everywhere
               "--user-data-dir=" + self.profile, "about:blank"]
        self.log = tempfile.TemporaryFile()
        # close_fds=False: the child's fds 3 and 4 are made by dup2 after the
        # fork; Python's own descriptors are close-on-exec anyway.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=child_fds, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        return self

    def __exit__(self, *exc):
        try:
            if self.proc and self.proc.poll() is None:
                try:
                    self.call("Browser.close", {}, timeout=10)
                except ChromeError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self.to_chrome, self.from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def _stderr(self):
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").splitlines()
        return "\n".join("    | " + l for l in lines[-8:])

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise ChromeError("Chromium did not answer in time; its last output:\n" + self._stderr())
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise ChromeError("Chromium closed its pipe (exit status %s); its last output:\n%s"
                                  % (self.proc.poll(), self._stderr()))
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        except OSError:
            raise ChromeError("Chromium is not running (exit status %s); its last output:\n%s"
                              % (self.proc.poll(), self._stderr()))
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise ChromeError("%s: %s" % (method, m["error"].get("message", m["error"])))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, session, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and m.get("sessionId") == session:
                    return self.events.pop(i)
            m = self._read_message(deadline)
            if "method" in m:
                self.events.append(m)

    def open(self, url, width=WIDTH, height=HEIGHT):
        """A new tab of width x height CSS pixels showing URL, loaded."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        page.navigate(url)
        return page
