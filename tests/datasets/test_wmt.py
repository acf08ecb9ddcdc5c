"""WMT readers on small files in the official formats, written by the tests."""

import gzip

import pytest

from rnnlab.datasets import storage, wmt

SRC_SGM = """<srcset setid="newstest2014" srclang="any">
<doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
<p>
<seg id="1">Gutach: Mehr Sicherheit f\u00fcr Fu\u00dfg\u00e4nger</seg>
<seg id="2"> Tom &amp; Jerry sagen &quot;Hallo&quot; &amp; &#39;tsch\u00fcss&#39; </seg>
</p>
</doc>
<doc sysid="ref" docid="1013-dw" genre="news" origlang="de">
<seg id=1>a &lt; b &gt; c &#x263A; &apos;x&apos;</seg>
</doc>
</srcset>
"""

# Same segments, the documents and segments in another order.
REF_SGM = """<refset setid="newstest2014" srclang="any" trglang="en">
<doc sysid="ref" docid="1013-dw" genre="news" origlang="de">
<seg id="1">a is less than b</seg>
</doc>
<doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
<seg id="2">Tom &amp; Jerry say "hello"</seg>
<seg id="1">Gutach: Increased safety for pedestrians</seg>
</doc>
</refset>
"""


def write(path, text, encoding="utf-8"):
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


# --- SGML ---


def test_sgm_pair_is_unescaped_and_aligned_by_doc_and_seg_id(tmp_path):
    src = write(tmp_path / "newstest2014-deen-src.de.sgm", SRC_SGM)
    ref = write(tmp_path / "newstest2014-deen-ref.en.sgm", REF_SGM)
    sources, targets = wmt.read_sgm_pair(src, ref)
    assert sources == [
        "Gutach: Mehr Sicherheit f\u00fcr Fu\u00dfg\u00e4nger",
        "Tom & Jerry sagen \"Hallo\" & 'tsch\u00fcss'",
        "a < b > c \u263a 'x'",
    ]
    assert targets == [
        "Gutach: Increased safety for pedestrians",
        'Tom & Jerry say "hello"',
        "a is less than b",
    ]


def test_read_sgm_keeps_ids_and_lines(tmp_path):
    segments = wmt.read_sgm(write(tmp_path / "src.sgm.gz", SRC_SGM))
    assert [(s.doc_id, s.seg_id, s.line) for s in segments] == [
        ("1012-bbc", "1", 4),
        ("1012-bbc", "2", 5),
        ("1013-dw", "1", 9),
    ]


def test_sgm_seg_id_mismatch_names_both_sides(tmp_path):
    src = write(tmp_path / "src.sgm", SRC_SGM)
    ref = write(tmp_path / "ref.sgm", REF_SGM.replace('<seg id="2">', '<seg id="3">'))
    with pytest.raises(storage.DatasetError) as error:
        wmt.read_sgm_pair(src, ref)
    message = str(error.value)
    assert f"Segments of {src} and {ref} do not match" in message
    assert "1 only in the source (doc 1012-bbc seg 2)" in message
    assert "1 only in the reference (doc 1012-bbc seg 3)" in message


def test_sgm_missing_document_in_reference_is_reported(tmp_path):
    src = write(tmp_path / "src.sgm", SRC_SGM)
    ref = write(tmp_path / "ref.sgm", REF_SGM.replace('docid="1013-dw"', 'docid="9999-xx"'))
    with pytest.raises(storage.DatasetError, match=r"only in the source \(doc 1013-dw seg 1\)"):
        wmt.read_sgm_pair(src, ref)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '<doc docid="d">\n<seg id="1">a</seg>\n<seg id="1">b</seg>\n</doc>',
            "line 3: seg id 1 appears twice in doc d",
        ),
        ('<doc docid="d">\n</doc>\n<seg id="1">a</seg>', "line 3: expected <seg> inside a <doc>"),
        ('<doc sysid="ref">\n<seg id="1">a</seg>\n</doc>', 'line 1: expected <doc docid="...">'),
        ('<doc docid="d">\n<seg>a</seg>\n</doc>', 'line 2: expected <seg id="N">'),
        ('<doc docid="d">\n<seg id="1">a\n<seg id="2">b</seg>\n</doc>', "line 2: <seg> not closed"),
        ('<doc docid="d">\n<seg id="1">a</seg>\n<seg id="2">b\n</doc>', "1 <seg> without a closing </seg>"),
        ("just text\n", "holds no <seg"),
    ],
    ids=["duplicate", "outside-doc", "no-docid", "no-id", "unclosed", "unclosed-last", "empty"],
)
def test_malformed_sgm_says_where_and_what(tmp_path, text, message):
    path = write(tmp_path / "bad.sgm", text)
    with pytest.raises(storage.DatasetError) as error:
        wmt.read_sgm(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


# --- plain parallel text ---


def test_parallel_text_strips_only_the_newline(tmp_path):
    src = write(tmp_path / "europarl-v7.de-en.de", "\ufeffEins.\r\nZwei  \n\nDrei\u2028vier\rf\u00fcnf\n")
    tgt = write(tmp_path / "europarl-v7.de-en.en.gz", "One.\nTwo  \n\nThree four five")  # no final newline
    sources, targets = wmt.read_parallel(src, tgt)
    assert sources == ["Eins.", "Zwei  ", "", "Drei\u2028vier\rf\u00fcnf"]
    assert targets == ["One.", "Two  ", "", "Three four five"]


def test_parallel_line_count_mismatch_names_both_files_and_counts(tmp_path):
    src = write(tmp_path / "a.de", "eins\nzwei\ndrei\n")
    tgt = write(tmp_path / "a.en", "one\ntwo\n")
    with pytest.raises(storage.DatasetError) as error:
        wmt.read_parallel(src, tgt)
    assert f"{src} has 3 lines, {tgt} has 2" in str(error.value)


def test_missing_file_says_where_rnnlab_looked(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    with pytest.raises(storage.DatasetNotFoundError) as error:
        wmt.read_parallel("newstest2014.de", "newstest2014.en")
    message = str(error.value)
    assert "WMT file not found: newstest2014.de" in message
    assert str(tmp_path / "datasets" / "wmt" / "newstest2014.de") in message
    assert "rnnlab does not download WMT data" in message
    with pytest.raises(
        storage.DatasetNotFoundError, match="not found: /nowhere/x.de. Looked in: /nowhere/x.de. "
    ):
        wmt.read_lines("/nowhere/x.de")


def test_bare_names_are_found_in_wmt_folder_on_the_search_path(tmp_path, monkeypatch, cache):
    first, second = tmp_path / "first", tmp_path / "second"
    (second / "wmt").mkdir(parents=True)
    write(second / "wmt" / "pairs.tsv", "a\tb\n")
    monkeypatch.setenv("RNNLAB_DATASETS", f"{first}:{second}")
    monkeypatch.chdir(tmp_path)
    assert wmt.resolve("pairs.tsv") == second / "wmt" / "pairs.tsv"
    assert wmt.load_pairs("pairs.tsv") == (["a"], ["b"])


def test_non_utf8_file_names_the_line(tmp_path):
    path = write(tmp_path / "latin1.de", "ok\nF\u00fc\u00dfe\n", encoding="latin-1")
    with pytest.raises(storage.DatasetError, match=r"latin1.de is not UTF-8: undecodable byte at line 2"):
        wmt.read_lines(path)


def test_damaged_gzip_is_a_dataset_error(tmp_path):
    path = tmp_path / "a.de.gz"
    path.write_bytes(gzip.compress(b"eins\nzwei\n" * 100)[:30])
    with pytest.raises(storage.DatasetError, match=f"Cannot read {path}"):
        wmt.read_lines(path)


# --- TSV ---


def test_tsv_columns_are_chosen_by_index(tmp_path):
    path = write(tmp_path / "news-commentary-v16.de-en.tsv", 'Ein "Satz"\tA "sentence"\tx\nLeer\t\ty\n')
    assert wmt.read_tsv(path) == (['Ein "Satz"', "Leer"], ['A "sentence"', ""])
    assert wmt.read_tsv(path, src_column=2, tgt_column=0) == (["x", "y"], ['Ein "Satz"', "Leer"])


def test_tsv_line_with_too_few_columns_gives_its_number(tmp_path):
    path = write(tmp_path / "pairs.tsv.gz", "a\tb\tc\nd\te\tf\ng\th\n")
    assert wmt.read_tsv(path) == (["a", "d", "g"], ["b", "e", "h"])
    with pytest.raises(storage.DatasetError) as error:
        wmt.read_tsv(path, src_column=0, tgt_column=2)
    assert f"{path}, line 3: expected at least 3 tab-separated columns" in str(error.value)
    assert "Received 2: 'g\\th'" in str(error.value)


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"src_column": -1}, "Expected src_column to be a column index >= 0. Received: src_column=-1"),
        ({"tgt_column": "1"}, "Received: tgt_column='1'"),
        ({"src_column": 1, "tgt_column": 1}, "Expected two different columns"),
    ],
)
def test_tsv_bad_columns_are_value_errors(tmp_path, columns, message):
    path = write(tmp_path / "pairs.tsv", "a\tb\n")
    with pytest.raises(ValueError, match=message):
        wmt.read_tsv(path, **columns)


# --- load_pairs ---


def test_load_pairs_picks_the_format(tmp_path):
    src = write(tmp_path / "src.de.sgm", SRC_SGM)
    ref = write(tmp_path / "ref.en.sgm", REF_SGM)
    assert wmt.load_pairs([src, ref]) == wmt.read_sgm_pair(src, ref)
    de, en = write(tmp_path / "a.de", "eins\n"), write(tmp_path / "a.en", "one\n")
    assert wmt.load_pairs((de, en)) == (["eins"], ["one"])
    tsv = write(tmp_path / "pairs.txt", "x\ty\tz\n")
    assert wmt.load_pairs(tsv, tgt_column=2) == (["x"], ["z"])
    with pytest.raises(ValueError, match=r"Expected format in \('auto', 'sgm', 'parallel', 'tsv'\)"):
        wmt.load_pairs(tsv, format="xml")
    with pytest.raises(ValueError, match="Expected one file for format='tsv'. Received 2"):
        wmt.load_pairs([de, en], format="tsv")
    with pytest.raises(ValueError, match=r"Expected a \(source, target\) pair of files for format='sgm'"):
        wmt.load_pairs(src, format="sgm")
