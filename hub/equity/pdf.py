"""The quarterly report as PDF (issue 16, item 7): the printable page, laid out by WeasyPrint
with the hub's own stylesheets and nothing fetched from anywhere (every URL is refused).

WeasyPrint is imported when the first report is printed, not with the app: loading it and its
fonts is a third of the hub's start-up, paid by every worker, restart and command."""

from functools import lru_cache
from typing import TYPE_CHECKING

from hub.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from weasyprint import CSS

STYLESHEETS = ("hub.css", "print.css", "equity.css")


@lru_cache(maxsize=1)
def _stylesheets() -> "tuple[CSS, ...]":
    from weasyprint import CSS

    return tuple(
        CSS(string=(PROJECT_ROOT / "static" / name).read_text(), media_type="print")
        for name in STYLESHEETS
    )


def pdf_of(html: str) -> bytes:
    """The page as PDF. No fetcher protocol is allowed: the report needs nothing outside it
    (its charts are inline SVG), and a link in it must never make the server fetch."""
    from weasyprint import HTML, URLFetcher

    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=()))
    return document.write_pdf(stylesheets=list(_stylesheets()))
