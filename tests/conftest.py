"""conftest.py - pytest's setup for the kit's tests (make test).

* tests/ is on sys.path, so a test imports `from lib import emu`.
* One id per `make test` session (VMXLAB_TEST_SESSION), set before the
  xdist workers start: testlib.once() keys its shared runs by it, so two
  workers share a run and two sessions never do.
* Markers for the slow groups, so that `make test-fast` can leave them out:
    kernel   boots a Linux kernel (QEMU about 10 s, Bochs 10-60 s)
    class    grades a whole class of submissions
    vmentry  the VM-entry differential test (every case in Bochs)
"""

import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def pytest_configure(config):
    for name, what in (("kernel", "boots a Linux kernel in QEMU or Bochs"),
                       ("class_", "grades a whole class of submissions"),
                       ("vmentry", "the VM-entry differential test: every case in Bochs")):
        config.addinivalue_line("markers", "%s: %s" % (name, what))
    if not os.environ.get("VMXLAB_TEST_SESSION"):
        os.environ["VMXLAB_TEST_SESSION"] = uuid.uuid4().hex[:12]
        # The shared runs of earlier sessions are of no use now; another
        # session may be running in this tree, so only old files go.
        shared = os.path.join(os.path.dirname(HERE), "build", "test-shared")
        now = time.time()
        for n in os.listdir(shared) if os.path.isdir(shared) else ():
            p = os.path.join(shared, n)
            try:
                if now - os.path.getmtime(p) > 6 * 3600:
                    os.unlink(p)
            except OSError:
                pass
