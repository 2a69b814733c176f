"""Reference parsing for the alternatives list: arXiv ids, DOIs, URLs, and arXiv metadata.

Everything here works offline. ``fetch_arxiv_metadata`` is the one network call (the
arXiv Atom API through urllib, with a timeout); ``parse_atom`` turns its answer into
plain records so the parsing is testable with a recorded response.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ARXIV_API = "http://export.arxiv.org/api/query"

# New style (2007+): YYMM.NNNN (until 1412) or YYMM.NNNNN, optional version.
_NEW_ID = re.compile(r"(?P<base>\d{4}\.\d{4,5})(?P<version>v\d+)?")
# Old style: archive(.SUBJECT-CLASS)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = re.compile(
    r"(?P<base>(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[A-Z]{2})?/\d{7})(?P<version>v\d+)?"
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(?P<id>.+)", re.IGNORECASE)
_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org")
_DOI_HOSTS = ("doi.org", "dx.doi.org", "www.doi.org")


@dataclass(frozen=True)
class ArxivId:
    """An arXiv identifier; ``version`` is "" or "v2" and is kept as written."""

    base: str
    version: str = ""

    def __str__(self) -> str:
        return self.base + self.version

    @property
    def archive(self) -> str:
        """The archive of an old-style id (``hep-th``), "" for new-style ids."""
        return self.base.split("/", 1)[0].split(".", 1)[0] if "/" in self.base else ""

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self}"


def parse_arxiv_id(text: str) -> ArxivId | None:
    """Parse a bare arXiv id (optionally prefixed ``arXiv:``); None if it is not one."""
    text = text.strip()
    if text[:6].lower() == "arxiv:":
        text = text[6:].strip()
    match = _NEW_ID.fullmatch(text)
    if match is not None:
        # Four-digit numbers until 1412, five from 1501 on.
        yymm, number = match.group("base").split(".")
        if (len(number) == 5) != (yymm >= "1501"):
            return None
    else:
        match = _OLD_ID.fullmatch(text)
    if match is None:
        return None
    return ArxivId(match.group("base"), match.group("version") or "")


# An arXiv id inside free text: "arXiv preprint arXiv:2307.03987", "arXiv:hep-th/9901001v2",
# "\\url{https://arxiv.org/abs/2106.09685v2}", "10.48550/arXiv.1607.06450", "abs/1607.06450".
_ID_TEXT = r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html|format)/|(?<![a-z])arxiv\s*[:.]?\s*|\babs/)"
    rf"(?P<id>{_ID_TEXT})(?![\d])",
    re.IGNORECASE,
)
_DOI_IN_TEXT = re.compile(r"(?:doi\.org/|\bdoi:\s*)(?P<doi>10\.\d{4,9}/[^\s{}\\]+)", re.I)


def find_arxiv_id(text: str) -> ArxivId | None:
    """The first arXiv id written inside free text (a BibTeX journal, note or URL)."""
    for match in _ARXIV_IN_TEXT.finditer(text):
        candidate = match.group("id")
        if "/" in candidate:
            # Old-style archive names are lower case; the regex is case-blind for "arXiv".
            archive, rest = candidate.split("/", 1)
            candidate = archive.split(".")[0].lower() + archive[len(archive.split(".")[0]) :]
            candidate = f"{candidate}/{rest}"
        parsed = parse_arxiv_id(candidate)
        if parsed is not None:
            return parsed
    return None


def find_doi(text: str) -> str:
    """The first DOI written inside free text as ``doi:...`` or a doi.org URL, else ""."""
    match = _DOI_IN_TEXT.search(text)
    return normalize_doi(match.group("doi").rstrip(".,;)")) if match else ""


def arxiv_base(text: str) -> str:
    """The version-less form of an arXiv id string, for duplicate checks ("" if none)."""
    parsed = parse_arxiv_id(text) if text else None
    return parsed.base if parsed else ""


def normalize_doi(text: str) -> str:
    """A DOI as stored: no ``doi:`` prefix or resolver URL; "" if ``text`` is not a DOI."""
    text = text.strip()
    if text[:4].lower() == "doi:":
        text = text[4:].strip()
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme in ("http", "https") and parsed.hostname in _DOI_HOSTS:
        text = urllib.parse.unquote(parsed.path.lstrip("/"))
    return text if _DOI.fullmatch(text) else ""


@dataclass(frozen=True)
class Reference:
    """What a pasted id or URL tells us: at least one of the three fields is set."""

    arxiv_id: ArxivId | None = None
    doi: str = ""
    url: str = ""


def parse_reference(text: str) -> Reference | None:
    """Recognise an arXiv id, an arXiv/DOI/other http(s) URL or a DOI; None otherwise."""
    text = text.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    arxiv = parse_arxiv_id(text)
    if arxiv is not None:
        return Reference(arxiv_id=arxiv, url=arxiv.abs_url)
    doi = normalize_doi(text)
    if doi:
        arxiv_doi = _ARXIV_DOI.fullmatch(doi)
        arxiv = parse_arxiv_id(arxiv_doi.group("id")) if arxiv_doi else None
        if arxiv is not None:
            return Reference(arxiv_id=arxiv, doi=doi, url=arxiv.abs_url)
        return Reference(doi=doi, url=f"https://doi.org/{doi}")
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    if parsed.hostname in _ARXIV_HOSTS:
        arxiv = _arxiv_from_path(parsed.path)
        if arxiv is not None:
            return Reference(arxiv_id=arxiv, url=arxiv.abs_url)
    return Reference(url=text)


def _arxiv_from_path(path: str) -> ArxivId | None:
    # /abs/ID, /pdf/ID, /pdf/ID.pdf, /html/ID, /format/ID
    parts = path.strip("/").split("/", 1)
    if len(parts) != 2 or parts[0] not in ("abs", "pdf", "html", "format"):
        return None
    rest = parts[1]
    if rest.endswith(".pdf"):
        rest = rest[:-4]
    return parse_arxiv_id(rest)


@dataclass(frozen=True)
class ArxivMetadata:
    """One record of the arXiv Atom API."""

    arxiv_id: ArxivId
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    primary_class: str = ""
    doi: str = ""
    summary: str = ""
    categories: tuple[str, ...] = ()


_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV_NS = "{http://arxiv.org/schemas/atom}"


class ArxivLookupError(Exception):
    """The online lookup failed (network, timeout, or an answer we cannot read)."""


def parse_atom(xml_text: str) -> list[ArxivMetadata]:
    """Read the entries of an arXiv API Atom feed. Raises ArxivLookupError on bad XML."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise ArxivLookupError(f"arXiv answer is not valid XML: {exc}") from None
    records = []
    for entry in root.iter(f"{_ATOM}entry"):
        raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        arxiv = _arxiv_from_path(urllib.parse.urlsplit(raw_id).path)
        if arxiv is None:
            # The API reports an unknown id as an entry titled "Error".
            continue
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split())
        authors = tuple(
            " ".join((author.findtext(f"{_ATOM}name") or "").split())
            for author in entry.findall(f"{_ATOM}author")
        )
        published = (entry.findtext(f"{_ATOM}published") or "").strip()
        year = int(published[:4]) if published[:4].isdigit() else None
        primary = entry.find(f"{_ARXIV_NS}primary_category")
        categories = tuple(
            c.get("term", "") for c in entry.findall(f"{_ATOM}category") if c.get("term")
        )
        records.append(
            ArxivMetadata(
                arxiv_id=arxiv,
                title=title,
                authors=tuple(a for a in authors if a),
                year=year,
                primary_class=primary.get("term", "") if primary is not None else "",
                doi=(entry.findtext(f"{_ARXIV_NS}doi") or "").strip(),
                summary=" ".join((entry.findtext(f"{_ATOM}summary") or "").split()),
                categories=categories,
            )
        )
    return records


def fetch_arxiv_metadata(
    arxiv_id: ArxivId, *, timeout: float = 5.0, api_url: str = ARXIV_API
) -> ArxivMetadata:
    """Ask the arXiv API about one id. Blocking: call it from a thread."""
    query = urllib.parse.urlencode({"id_list": str(arxiv_id), "max_results": "1"})
    try:
        with urllib.request.urlopen(f"{api_url}?{query}", timeout=timeout) as response:
            body = response.read(2_000_000).decode("utf-8", errors="replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArxivLookupError(f"arXiv lookup failed: {reason}") from None
    for record in parse_atom(body):
        if record.arxiv_id.base == arxiv_id.base:
            return record
    raise ArxivLookupError(f"arXiv has no entry {arxiv_id}")
