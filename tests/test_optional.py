"""Optional dependencies: a missing one is an ImportError with the exact install hint."""

import subprocess
import sys

import pytest

from rnnlab.optional import EXTRAS, require


def test_require_returns_the_module():
    assert require("json", "anything").dumps([1]) == "[1]"


@pytest.mark.parametrize(
    "module, extra", [("gensim", "text"), ("tokenizers", "text"), ("keras_tuner", "tune")]
)
def test_a_missing_optional_package_names_the_extra(module, extra):
    # Hide the module in a fresh process, as if it were not installed.
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from rnnlab.optional import require\n"
        f"require({module!r}, 'the feature')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    package = EXTRAS[module][0]
    assert f"ImportError: the feature needs the {package} package, which is not installed: " in done.stderr
    assert f"pip install 'rnnlab[{extra}]'" in done.stderr


def test_stop_words_without_gensim_say_how_to_install(tmp_path):
    code = (
        "import sys; sys.modules['gensim'] = None\n"
        "from rnnlab.text.words import english_stop_words\n"
        "english_stop_words()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "English stop words (--stop-words) needs the gensim package" in done.stderr
