"""Assert that user-written text stayed text: walk the real HTML the page sends."""

from __future__ import annotations

from html.parser import HTMLParser

DANGEROUS_TAGS = {
    "iframe",
    "object",
    "embed",
    "style",
    "svg",
    "math",
    "base",
    "meta",
    "link",
    "img",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "?")


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        for name in a:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "script" and "src" not in a:
            self.problems.append("inline <script>")
        if tag in DANGEROUS_TAGS and not (tag in ("link", "meta") and self._ours(a)):
            self.problems.append(f"<{tag}>")
        for attr in ("href", "src", "action", "formaction"):
            value = a.get(attr, "").strip().lower()
            if value and not value.startswith(SAFE_SCHEMES):
                self.problems.append(f"{attr}={value[:40]}")

    @staticmethod
    def _ours(a: dict[str, str]) -> bool:
        # The layout's own <link rel=stylesheet href=/static/…> and <meta> tags.
        return a.get("href", "").startswith("/static/") or "charset" in a or "name" in a

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def assert_inert(html: str) -> None:
    walker = _Walker()
    walker.feed(html)
    assert not walker.problems, walker.problems
