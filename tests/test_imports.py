"""rnnlab's modules import one another without cycles: counting imports inside functions too
(a function-local import hides a cycle from Python, not from the design). Inside functions, only
optional dependencies are imported, and a few named exceptions; `rnnlab` chooses the Keras
backend before it imports Keras (`rnnlab.cli.backend_for`), not by deferring imports."""

import ast
import subprocess
import sys
from pathlib import Path

from rnnlab.optional import EXTRAS

SRC = Path(__file__).resolve().parents[1] / "src"
# What a function may import, and why:
OPTIONAL = {*EXTRAS, "tensorflow", "torch", "starlette"}  # the extras' modules (starlette: FastAPI's)
JAX_ONLY = {"jax", "jaxlib"}  # code that runs on the JAX backend only (native loops, its autodiff)
PLOTTING = {"matplotlib"}  # only to write a figure; importing it picks matplotlib's backend (Agg),
# which importing rnnlab must not do to a notebook
NAMED = {  # module -> what it imports inside a function
    # inside a try: a Ctrl-C while Python imports the command line ends with one line too
    "rnnlab.__main__": {"rnnlab.cli"},
    # the verbs import Keras: only once the command line has chosen the backend
    "rnnlab.cli": {"rnnlab.commands"},
    # the routes are FastAPI models (the serve extra)
    "rnnlab.serve.app": {"rnnlab.serve.routes"},
    # each worker process measures one peer: the torch-native and onnxruntime ones import no Keras
    "rnnlab.bench.worker": {
        "keras",
        "rnnlab.layers.loop_report",
        "rnnlab.models.language_model",
        "rnnlab.models.seq2seq",
        "rnnlab.tasks.sentiment.config",
        "rnnlab.tasks.translation.config",
        "rnnlab.training.setup",
    },
}


def module_names(src):
    """`{dotted name: path}` of every module under `src`."""
    names = {}
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(node, name, is_package, modules):
    """The modules an `import` or `from ... import` node in module `name` imports: a module of
    `modules` (`rnnlab.layers.masking`), or the top of another package (`keras` for `keras.ops`)."""
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parent = name.split(".") if is_package else name.split(".")[:-1]
            parent = parent[: len(parent) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        found = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
        ]
    targets = []
    for target in found:
        while target not in modules and "." in target:
            target = target.rsplit(".", 1)[0]
        targets.append(target)
    return targets


def import_nodes(tree, in_function=False):
    """`(node, inside a function)` for every import statement under `tree`."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_function
        yield from import_nodes(
            child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
        )


def _imports(src):
    """`(module, is a package, node, inside a function)` for every import statement under `src`."""
    for name, path in module_names(src).items():
        for node, in_function in import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            yield name, path.name == "__init__.py", node, in_function


def import_graph(src, package):
    """`{module: {modules of `package` it imports anywhere in its code}}`."""
    modules = module_names(src)
    graph = {name: set() for name in modules}
    for name, is_package, node, _ in _imports(src):
        for target in imported_modules(node, name, is_package, modules):
            if target in modules and (target == package or target.startswith(package + ".")):
                graph[name].add(target)
    for name in graph:
        graph[name].discard(name)
    return graph


def function_local_imports(src):
    """`(module, line, imported module)` of every import inside a function under `src`."""
    modules = module_names(src)
    return [
        (name, node.lineno, target)
        for name, is_package, node, in_function in _imports(src)
        if in_function
        for target in imported_modules(node, name, is_package, modules)
    ]


def is_allowed(module, imported):
    """Whether `module` may import `imported` inside a function (see `OPTIONAL`, `NAMED`)."""
    top = imported.split(".")[0]
    return top in OPTIONAL | JAX_ONLY | PLOTTING or imported in NAMED.get(module, ())


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_rnnlab_has_no_import_cycle():
    graph = import_graph(SRC, "rnnlab")
    assert len(graph) > 100 and "rnnlab.training.trainer" in graph["rnnlab.training.tuning"]
    assert cycles(graph) == []


def test_a_cycle_through_a_function_local_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.c import g\n")
    (package / "c.py").write_text("from . import a\n\ndef g():\n    pass\n")
    (package / "d.py").write_text("import pkg.a\n")
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_functions_import_only_optional_dependencies():
    found = function_local_imports(SRC)
    refused = [
        f"{module}:{line} imports {imported}"
        for module, line, imported in found
        if not is_allowed(module, imported)
    ]
    assert refused == [], "import these at the top of the module:\n" + "\n".join(refused)
    used = {(module, imported) for module, _, imported in found}
    unused = [
        (module, imported)
        for module, names in NAMED.items()
        for imported in names
        if (module, imported) not in used
    ]
    assert unused == [], f"NAMED allows imports that no longer happen: {unused}"


def test_a_function_local_import_of_keras_or_rnnlab_is_refused(tmp_path):
    package = tmp_path / "rnnlab"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text("import keras\n")
    (package / "models.py").write_text(
        "def build():\n    import keras\n    from rnnlab import layers\n    import torch\n"
        "    from matplotlib import pyplot\n    from . import layers as again\n"
    )
    found = function_local_imports(tmp_path)
    assert [(line, imported) for _, line, imported in found] == [
        (2, "keras"), (3, "rnnlab.layers"), (4, "torch"), (5, "matplotlib"), (6, "rnnlab.layers")
    ]  # fmt: skip
    assert [imported for module, _, imported in found if not is_allowed(module, imported)] == [
        "keras", "rnnlab.layers", "rnnlab.layers"
    ]  # fmt: skip


def test_the_command_line_module_imports_no_keras():
    """`rnnlab.cli` reads the backend from the arguments before anything imports Keras."""
    code = (
        "import sys, rnnlab.cli\n"
        "rnnlab.cli.backend_for(['predict', '.', '--backend', 'torch'])\n"
        "print(sorted(name for name in ('keras', 'jax', 'tensorflow', 'torch') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
