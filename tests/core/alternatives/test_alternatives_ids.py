"""arXiv id, DOI and URL parsing for the alternatives list, plus the arXiv Atom reader."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.alternatives.arxiv import (
    ArxivId,
    ArxivLookupError,
    fetch_arxiv_metadata,
    normalize_doi,
    parse_arxiv_id,
    parse_atom,
    parse_reference,
)

new_ids = st.builds(
    lambda yymm, number, version: ArxivId(
        f"{yymm:04d}.{number % 10_000 if yymm < 1501 else number:0{4 if yymm < 1501 else 5}d}",
        f"v{version}" if version else "",
    ),
    st.integers(704, 9912),
    st.integers(0, 99999),
    st.integers(0, 40),
)
old_ids = st.builds(
    lambda archive, subject, number, version: ArxivId(
        f"{archive}{subject}/{number:07d}", f"v{version}" if version else ""
    ),
    st.sampled_from(["hep-th", "math", "cs", "cond-mat", "astro-ph", "quant-ph"]),
    st.sampled_from(["", ".GT", ".LG", ".AI"]),
    st.integers(0, 9_999_999),
    st.integers(0, 12),
)
any_ids = st.one_of(new_ids, old_ids)


@given(any_ids)
def test_bare_id_round_trip(arxiv: ArxivId) -> None:
    assert parse_arxiv_id(str(arxiv)) == arxiv
    assert parse_arxiv_id(f"arXiv:{arxiv}") == arxiv


@given(any_ids, st.sampled_from(["abs", "pdf", "html"]), st.booleans())
def test_url_round_trip(arxiv: ArxivId, kind: str, pdf_suffix: bool) -> None:
    suffix = ".pdf" if kind == "pdf" and pdf_suffix else ""
    ref = parse_reference(f"https://arxiv.org/{kind}/{arxiv}{suffix}")
    assert ref is not None and ref.arxiv_id == arxiv
    assert ref.url == arxiv.abs_url
    assert parse_reference(arxiv.abs_url) == ref


def test_versions_are_kept_and_archive_known() -> None:
    assert parse_arxiv_id("2106.09685v2") == ArxivId("2106.09685", "v2")
    assert parse_arxiv_id("hep-th/9901001").archive == "hep-th"
    assert parse_arxiv_id("math.GT/0309136v1") == ArxivId("math.GT/0309136", "v1")
    assert parse_arxiv_id("2106.09685").archive == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2106.0968",
        "1412.69800",
        "21060.9685",
        "hep-th/990100",
        "HEP-TH/9901001",
        "2106.09685 x",
    ],
)
def test_not_arxiv_ids(text: str) -> None:
    assert parse_arxiv_id(text) is None


def test_doi_forms() -> None:
    assert normalize_doi("doi:10.1000/XYZ.1") == "10.1000/XYZ.1"
    assert normalize_doi("https://doi.org/10.1000/a%2Fb") == "10.1000/a/b"
    assert normalize_doi("10.1/x") == ""
    ref = parse_reference("https://dx.doi.org/10.1145/3292500.3330701")
    assert ref is not None and ref.doi == "10.1145/3292500.3330701" and ref.arxiv_id is None


def test_arxiv_doi_gives_the_arxiv_id() -> None:
    ref = parse_reference("10.48550/arXiv.2106.09685")
    assert ref is not None and ref.arxiv_id == ArxivId("2106.09685")
    assert ref.doi == "10.48550/arXiv.2106.09685"


def test_other_urls_and_rubbish() -> None:
    ref = parse_reference("https://github.com/huggingface/peft")
    assert ref is not None and ref.url == "https://github.com/huggingface/peft"
    assert ref.arxiv_id is None and ref.doi == ""
    assert parse_reference("https://arxiv.org/list/cs.LG/recent").arxiv_id is None
    for text in ("", "just words", "ftp://example.org/x", "javascript:alert(1)", "see 2106.09685"):
        assert parse_reference(text) is None


ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: id_list=2106.09685</title>
  <entry>
    <id>http://arxiv.org/abs/2106.09685v2</id>
    <published>2021-06-17T17:37:18Z</published>
    <title>LoRA: Low-Rank Adaptation of
      Large Language Models</title>
    <summary>  An important paradigm of natural language processing ...  </summary>
    <author><name>Edward J. Hu</name></author>
    <author><name>Yelong Shen</name></author>
    <arxiv:doi>10.48550/arXiv.2106.09685</arxiv:doi>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>
"""


def test_parse_recorded_atom() -> None:
    (record,) = parse_atom(ATOM)
    assert record.arxiv_id == ArxivId("2106.09685", "v2")
    assert record.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert record.authors == ("Edward J. Hu", "Yelong Shen")
    assert record.year == 2021
    assert record.primary_class == "cs.CL"
    assert record.categories == ("cs.CL", "cs.LG")
    assert record.doi == "10.48550/arXiv.2106.09685"


def test_atom_error_entry_and_bad_xml() -> None:
    error_feed = ATOM.replace("http://arxiv.org/abs/2106.09685v2", "http://arxiv.org/api/errors")
    assert parse_atom(error_feed) == []
    with pytest.raises(ArxivLookupError):
        parse_atom("<feed><entry>")


def test_lookup_failure_on_a_dead_local_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ArxivLookupError, match="arXiv lookup failed"):
        fetch_arxiv_metadata(
            ArxivId("2106.09685"), timeout=1.0, api_url=f"http://127.0.0.1:{port}/api/query"
        )
