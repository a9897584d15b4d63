"""Draw the figures of the documentation pages by running the pages' own examples.

A page marks an example with ``<!-- figure: NAME [NAME...] -->`` on the line before its
```python block and shows ``img/NAME`` after it. This script runs each marked block, as written,
in a fresh namespace inside a temporary folder, and copies each file NAME that the block wrote to
``docs/img/NAME``. So the figure on the page is what the example on the page draws.

    python docs/figures.py            # every marked example (a few minutes on 2 cores)
    python docs/figures.py airline.png

``make docs-figures`` runs it; the PNGs are committed (the site build itself stays offline and
fast), and ``tests/test_docs.py`` checks that every marker has its image and its link.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
MARKED = re.compile(r"<!-- figure: (?P<name>[\w.-]+(?: [\w.-]+)*) -->\n```python\n(?P<code>.*?)\n```", re.S)


def examples() -> list[tuple[Path, str, str]]:
    """(page, figure names, code) of every marked example, in page order."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for m in MARKED.finditer(page.read_text()):
            found.append((page, m["name"].split(), m["code"]))
    return found


def main(argv: list[str]) -> int:
    wanted = set(argv)
    out = DOCS / "img"
    out.mkdir(exist_ok=True)
    for page, names, code in examples():
        if wanted and not wanted & set(names):
            continue
        name = " ".join(names)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                exec(compile(code, f"{page.name}:{name}", "exec"), {"__name__": "__docs__"})
            finally:
                os.chdir(cwd)
            for one in names:
                if not (Path(tmp) / one).is_file():
                    print(f"{page.name}: the example marked {name} did not write {one}", file=sys.stderr)
                    return 1
                shutil.copyfile(Path(tmp) / one, out / one)
        print(f"{page.name}: img/{name} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
