"""Building the native loops: the cache, and a clear error when the compiler fails."""

import pytest

from rnnlab.layers import native


def test_library_path_depends_on_the_source_and_lives_in_the_cache(tmp_path):
    path = native.library_path(tmp_path)
    assert path.parent == tmp_path
    assert path.name.startswith("rnn_loops-") and path.suffix == ".so"
    assert native.library_path(tmp_path) == path  # stable for the same source, jaxlib and CPU


def test_compiler_failure_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CXX", "false")  # a "compiler" that always fails
    with pytest.raises(native.NativeBuildError, match="failed"):
        native.build(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no half-written library


def test_build_compiles_once_into_the_cache(tmp_path):
    import shutil

    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler")
    path = native.build(tmp_path)
    assert path.exists() and path.stat().st_size > 0
    mtime = path.stat().st_mtime_ns
    assert native.build(tmp_path) == path and path.stat().st_mtime_ns == mtime  # reused, not rebuilt
