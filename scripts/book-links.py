#!/usr/bin/env python3
"""Check the links and images of a built mdBook.

usage: book-links.py HTML_DIR

Every <a href> that stays inside the book must lead to a file that exists,
and its #fragment (if any) to an element with that id there; every <img
src> must exist. Links to other sites are not followed (the book is read
offline too). In the Korean edition, an underscore against Hangul is
emphasis that did not render (the translation step writes emphasis with
underscores, which cannot close inside a word: write `_마운트해_`, not
`_마운트_해`). Prints each problem and exits 1 if there is any.
"""
import html
import html.parser
import pathlib
import re
import sys
import urllib.parse

root = pathlib.Path(sys.argv[1]).resolve()


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()
        self.links = []
        self.images = []

        self.text = []
        self.in_code = 0

    def handle_data(self, data):
        if not self.in_code:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag in ("code", "pre") and self.in_code:
            self.in_code -= 1

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre"):
            self.in_code += 1
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


pages = {}
for path in root.rglob("*.html"):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    pages[path.resolve()] = page

broken = []
for path, page in sorted(pages.items()):
    # The print page repeats every other one; 404 and toc are mdBook's own.
    if path.name in ("print.html", "404.html", "toc.html"):
        continue
    where = path.relative_to(root)
    for href in page.links:
        parts = urllib.parse.urlsplit(href)
        if parts.scheme or href.startswith("//"):
            continue
        target = path if not parts.path else (path.parent / urllib.parse.unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists() or root not in target.parents and target != root:
            broken.append(f"{where}: link {href!r}: no such page in the book")
            continue
        fragment = urllib.parse.unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in pages[target].ids:
            broken.append(f"{where}: link {href!r}: no #{fragment} on {target.relative_to(root)}")
    for match in re.finditer(r"[\uac00-\ud7a3]_|_[\uac00-\ud7a3]", "".join(page.text)):
        around = "".join(page.text)[max(0, match.start() - 20) : match.end() + 20]
        broken.append(f"{where}: emphasis not rendered: ...{around.strip()}...")
    for src in page.images:
        parts = urllib.parse.urlsplit(src)
        if parts.scheme:
            continue
        if not (path.parent / urllib.parse.unquote(parts.path)).exists():
            broken.append(f"{where}: image {src!r} is missing")

for line in broken:
    print(f"book-links: {line}", file=sys.stderr)
print(f"book-links: {len(pages)} pages, {len(broken)} broken links or images")
sys.exit(1 if broken else 0)
