"""Write the API reference pages from the package itself, and resolve its public aliases.

Every public module of ``spikegraph`` (no path component starting with ``_``) is walked. Its
public names are its ``__all__``, or, without one, the classes and functions it defines plus the
data it documents with ``#:`` comments. Each object is documented once, under the shallowest
public module that exports it below the root (``spikegraph.nn.SpikingASConv``, as users import
it); every other module that exports it lists it with a link. So a name added to any
``__all__`` appears in the reference without editing the docs, and the pages are rebuilt on
every Sphinx run (``docs/api/generated/`` is not tracked).

The same walk yields every public path of every object (``spikegraph.SpikingASConv``,
``spikegraph.nn.conv.SpikingASConv``, ...). A ``missing-reference`` handler resolves a
cross-reference to any of them, and a name used relative to the module or class a docstring
belongs to, to the documented one. What it cannot resolve stays a warning, which ``-W`` turns
into a failed build.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = "spikegraph"
# Pages in reading order; a subpackage or module not listed here is appended alphabetically.
PAGE_ORDER = (
    "synapse",
    "neurons",
    "encoders",
    "nn",
    "models",
    "monitor",
    "datasets",
    "tasks",
    "events",
    "continual",
    "utils",
    "testing",
    "typing",
)


@dataclass
class Entry:
    """One documented object: where it lives in the docs and what kind of thing it is."""

    module: str  # the module it is documented under
    name: str
    kind: str  # "class", "function" or "data"
    doc: list[str] = field(default_factory=list)  # doc comment of a data entry

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class ApiIndex:
    modules: list[str]  # public modules, parents before children
    documented: dict[str, list[Entry]]  # module -> entries documented there
    exported: dict[str, list[tuple[str, Entry]]]  # module -> (name, entry documented elsewhere)
    aliases: dict[str, str]  # any public dotted path -> documented dotted path
    by_key: dict[tuple, Entry]


def _is_public_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_modules() -> list[str]:
    """Every public module of the package, each package before its submodules."""
    root = importlib.import_module(ROOT)
    names = [ROOT]
    for info in pkgutil.walk_packages(root.__path__, ROOT + "."):
        if _is_public_module(info.name):
            names.append(info.name)
    return names


def _attr_docs(modname: str) -> dict[str, list[str]]:
    """The ``#:`` doc comments of a module's top-level names."""
    from sphinx.pycode import ModuleAnalyzer

    try:
        analyzer = ModuleAnalyzer.for_module(modname)
    except Exception:  # a module without source (compiled): no doc comments
        return {}
    return {name: lines for (scope, name), lines in analyzer.find_attr_docs().items() if not scope}


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, or what the module defines: classes, functions and documented data."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    documented = _attr_docs(module.__name__)
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        defined_here = getattr(obj, "__module__", None) == module.__name__
        is_code = inspect.isclass(obj) or inspect.isroutine(obj)
        if (is_code and defined_here) or name in documented:
            found.append(name)
    return found


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


def _key(name: str, obj: object) -> tuple:
    # Classes and functions are one object wherever they are exported; a constant is keyed by
    # name too, since equal small values (0, "tent") are shared objects in CPython.
    return (id(obj),) if _kind(obj) != "data" else (id(obj), name)


def build_index() -> ApiIndex:
    modules = public_modules()
    loaded = {name: importlib.import_module(name) for name in modules}
    attr_docs = {name: _attr_docs(name) for name in modules}
    by_key: dict[tuple, Entry] = {}
    documented: dict[str, list[Entry]] = {name: [] for name in modules}
    exported: dict[str, list[tuple[str, Entry]]] = {name: [] for name in modules}
    aliases: dict[str, str] = {}
    module_names = set(modules)
    shadowed: list[tuple[str, str, object]] = []
    # Shallowest first, the root last: the root's names are documented in their subpackage.
    for modname in sorted(modules, key=lambda m: (m == ROOT, m.count("."))):
        module = loaded[modname]
        for name in public_names(module):
            if name == "__version__":
                continue  # documented by hand on the root page
            try:
                obj = getattr(module, name)
            except AttributeError as exc:
                raise RuntimeError(f"{modname}.__all__ names {name!r}, which it lacks") from exc
            if isinstance(obj, types.ModuleType):
                continue  # submodules have their own sections
            if f"{modname}.{name}" in module_names:
                # ``spikegraph.events.perturb`` is both a submodule and, in the package, the
                # function of that name: document the function in its module, not over it.
                shadowed.append((modname, name, obj))
                continue
            key = _key(name, obj)
            entry = by_key.get(key)
            if entry is None:
                doc = (
                    _data_doc(name, obj, modules, loaded, attr_docs) if _kind(obj) == "data" else []
                )
                entry = Entry(modname, name, _kind(obj), doc)
                by_key[key] = entry
                documented[modname].append(entry)
            else:
                exported[modname].append((name, entry))
            aliases[f"{modname}.{name}"] = entry.full
    for modname, name, obj in shadowed:
        entry = by_key.get(_key(name, obj))
        if entry is None:
            raise RuntimeError(f"{modname}.{name} is documented nowhere")
        exported[modname].append((name, entry))
        aliases[f"{modname}.{name}"] = entry.full
    # Objects also reachable under their defining module (a private-looking path in a docstring).
    for entry in by_key.values():
        obj = getattr(loaded[entry.module], entry.name)
        origin = getattr(obj, "__module__", None)
        if entry.kind != "data" and origin and hasattr(obj, "__qualname__"):
            aliases.setdefault(f"{origin}.{obj.__qualname__}", entry.full)
    return ApiIndex(modules, documented, exported, aliases, by_key)


def _data_doc(name, obj, modules, loaded, attr_docs) -> list[str]:
    """The ``#:`` comment of a constant, from whichever module assigns it (deepest first)."""
    for modname in sorted(modules, key=lambda m: -m.count(".")):
        if name in attr_docs[modname] and getattr(loaded[modname], name, None) is obj:
            return attr_docs[modname][name]
    return []


# --- pages -------------------------------------------------------------------------------------


def _page_of(modname: str) -> str:
    parts = modname.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _value_line(obj: object) -> str | None:
    text = repr(obj)
    return text if len(text) <= 70 and "\n" not in text else None


def _entry_rst(entry: Entry) -> list[str]:
    if entry.kind == "class":
        return [
            f".. autoclass:: {entry.full}",
            "   :members:",
            "   :undoc-members:",
            "   :show-inheritance:",
            "",
        ]
    if entry.kind == "function":
        return [f".. autofunction:: {entry.full}", ""]
    obj = getattr(importlib.import_module(entry.module), entry.name)
    lines = [f".. py:data:: {entry.name}", f"   :module: {entry.module}"]
    value = _value_line(obj)
    if value is not None:
        lines.append(f"   :value: {value}")
    lines.append("")
    lines += [f"   {line}" if line else "" for line in entry.doc]
    return lines + [""]


def _module_rst(index: ApiIndex, modname: str, char: str) -> list[str]:
    lines = _heading(f"``{modname}``", char)
    lines += [f".. automodule:: {modname}", "   :no-members:", ""]
    if index.exported[modname]:
        links = ", ".join(
            f":py:obj:`{name} <{entry.full}>`" for name, entry in index.exported[modname]
        )
        lines += [f"Also exported here: {links}.", ""]
    entries = index.documented[modname]
    if entries:
        lines += [f".. currentmodule:: {modname}", ""]
        # Constants have no summary line of their own (autosummary would show their type's).
        listed = [entry.name for entry in entries if entry.kind != "data"]
        if listed:
            lines += [".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   {name}" for name in listed] + [""]
        for entry in entries:
            lines += _entry_rst(entry)
    return lines


def write_pages(outdir: Path, index: ApiIndex | None = None) -> list[str]:
    """Write one page per subpackage (and the root's listing) into ``outdir``; return the page names."""
    index = index or build_index()
    outdir.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[str]] = {}
    for modname in index.modules:
        if modname != ROOT:
            groups.setdefault(_page_of(modname), []).append(modname)
    pages = [p for p in PAGE_ORDER if p in groups] + sorted(set(groups) - set(PAGE_ORDER))
    written = {}
    for page in pages:
        lines: list[str] = []
        for modname in groups[page]:
            depth = modname.count(".")
            lines += _module_rst(index, modname, "=" if depth == 1 else "-")
        written[f"{page}.rst"] = "\n".join(lines)
    # Included by api/index.rst; not a page of its own, hence not ``.rst``.
    toctree = [".. toctree::", "   :maxdepth: 1", "   :caption: Subpackages and modules", ""]
    toctree += [f"   generated/{page}" for page in pages]
    written["contents.inc"] = "\n".join([*_root_rst(index), *toctree, ""])
    for stale in [*outdir.glob("*.rst"), *outdir.glob("*.inc")]:
        if stale.name not in written:
            stale.unlink()
    for name, text in written.items():
        path = outdir / name
        if not path.exists() or path.read_text() != text:  # keep mtimes: no needless rebuilds
            path.write_text(text)
    return pages


def _root_rst(index: ApiIndex) -> list[str]:
    root = importlib.import_module(ROOT)
    lines = [
        ".. py:data:: __version__",
        f"   :module: {ROOT}",
        f"   :value: {root.__version__!r}",
        "   :no-contents-entry:",
        "",
        "   The package version (also in the installed distribution's metadata).",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 70",
        "",
        f"   * - ``from {ROOT} import ...``",
        "     - documented at",
    ]
    for name, entry in index.exported[ROOT]:
        lines += [f"   * - ``{name}``", f"     - :py:obj:`{entry.full}`"]
    return lines + [""]


# --- Sphinx hooks --------------------------------------------------------------------------------

_INDEX: ApiIndex | None = None


def _canonical(dotted: str) -> str | None:
    """The documented path of any public path of an object, or of an attribute below it."""
    assert _INDEX is not None
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in _INDEX.aliases:
            return ".".join([_INDEX.aliases[head], *parts[cut:]])
    return None


def _lookup_in(modname: str, target: str) -> str | None:
    """Resolve ``target`` as Python would inside module ``modname`` (a docstring's own scope)."""
    try:
        module = importlib.import_module(modname)
    except ImportError:
        return None
    first, *rest = target.split(".")
    obj = getattr(module, first, None)
    if obj is None:
        return None
    if isinstance(obj, types.ModuleType):
        return _canonical(".".join([obj.__name__, *rest])) or (
            ".".join([obj.__name__, *rest]) if not rest else None
        )
    assert _INDEX is not None
    entry = _INDEX.by_key.get(_key(first, obj))
    return ".".join([entry.full, *rest]) if entry else None


def _inherited(cls: type, attr: str) -> str | None:
    """``attr`` of ``cls`` at the documented class that defines it (``ForwardHooks.remove``)."""
    assert _INDEX is not None
    for base in inspect.getmro(cls):
        if attr in vars(base):
            entry = _INDEX.by_key.get(_key(base.__name__, base))
            return f"{entry.full}.{attr}" if entry else None
    return None


def _candidates(node) -> list[str | None]:
    """Documented paths the target of ``node`` may mean, most literal first."""
    assert _INDEX is not None
    target = node["reftarget"].lstrip(".~")
    found = [_canonical(target)]
    modname, clsname = node.get("py:module"), node.get("py:class")
    if not modname:
        return [*found, _unique(target)]
    found.append(_lookup_in(modname, target))
    module = importlib.import_module(modname)
    if clsname:  # inside a class: its attributes, inherited ones and its defining module
        cls = getattr(module, clsname.split(".")[0], None)
        if inspect.isclass(cls):
            if "." not in target:
                found.append(_inherited(cls, target))
            found.append(_lookup_in(cls.__module__, target))
    elif "." not in target:  # e.g. a summary table: a method of a class documented here
        for entry in _INDEX.documented.get(modname, []):
            cls = getattr(module, entry.name, None)
            if entry.kind == "class" and any(target in vars(base) for base in inspect.getmro(cls)):
                found.append(_inherited(cls, target))
    # Objects documented under a package were written in a submodule: a name relative to
    # that submodule is what their docstrings mean.
    for entry in _INDEX.documented.get(modname, []):
        origin = getattr(getattr(module, entry.name, None), "__module__", None)
        if origin and origin != modname:
            found.append(_lookup_in(origin, target))
    return found + [_unique(target)]


def _unique(target: str) -> str | None:
    """``SpikingASConv.move_experience`` written where that class is not imported: the one
    documented object of that name, if there is exactly one."""
    assert _INDEX is not None
    first, *rest = target.split(".")
    entries = {e.full for e in _INDEX.by_key.values() if e.name == first}
    return ".".join([entries.pop(), *rest]) if len(entries) == 1 else None


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py" or _INDEX is None:
        return None
    candidates = _candidates(node)
    domain = env.domains["py"] if hasattr(env, "domains") else env.get_domain("py")
    for canonical in filter(None, candidates):
        for role in (node["reftype"], "obj"):
            found = domain.resolve_xref(
                env, node["refdoc"], app.builder, role, canonical, node, contnode
            )
            if found is not None:
                return found
    return None


def _write(app) -> None:
    global _INDEX
    _INDEX = build_index()
    write_pages(Path(app.srcdir) / "api" / "generated", _INDEX)


def setup(app):
    app.connect("builder-inited", _write)
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
