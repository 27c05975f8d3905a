"""A Jinja environment that renders exactly as dbt's does, without importing dbt.

dbt renders through `dbt_common.clients.jinja`: a sandboxed environment whose parser renames macros to
`dbt_macro__<name>` and accepts typed macro arguments, the `do`/`loopcontrols` extensions, `{% test %}`,
`{% materialization %}` and `{% docs %}` blocks, text filters (`as_text`, `as_bool`, ...), and a "native"
variant used for generic-test arguments. Importing that module costs ~0.4 s (it pulls in mashumaro), so the
few classes that decide the rendered bytes are re-stated here, following dbt-common 1.x line for line where
output depends on it. The compile cache verifies this renderer against dbt on every cold compile, node by
node; a node it does not reproduce byte for byte is always compiled by dbt.
"""

from __future__ import annotations

from ast import literal_eval
from collections import ChainMap
from collections.abc import Iterator, Mapping
from itertools import chain, islice
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nativetypes
import jinja2.nodes
import jinja2.parser
import jinja2.sandbox

MACRO_PREFIX = "dbt_macro__"
DOCS_PREFIX = "dbt_docs__"


def dbt_macro_name(name: str) -> str:
    return f"{MACRO_PREFIX}{name}"


class MacroFuzzParser(jinja2.parser.Parser):
    def parse_macro(self) -> jinja2.nodes.Macro:
        node = jinja2.nodes.Macro(lineno=next(self.stream).lineno)
        node.name = dbt_macro_name(self.parse_assign_target(name_only=True).name)
        self.parse_signature(node)
        node.body = self.parse_statements(("name:endmacro",), drop_needle=True)
        return node

    def parse_signature(self, node: Any) -> None:
        # dbt allows typed macro parameters (`{% macro m(a: str) %}`); the types are parsed and ignored.
        args = node.args = []
        defaults = node.defaults = []
        self.stream.expect("lparen")
        while self.stream.current.type != "rparen":
            if args:
                self.stream.expect("comma")
            arg = self.parse_assign_target(name_only=True)
            arg.set_ctx("param")
            if self.stream.skip_if("colon"):
                self._parse_type_name()
            if self.stream.skip_if("assign"):
                defaults.append(self.parse_expression())
            elif defaults:
                self.fail("non-default argument follows default argument")
            args.append(arg)
        self.stream.expect("rparen")

    def _parse_type_name(self) -> None:
        self.stream.expect("name")
        if self.stream.skip_if("lbracket"):
            first = True
            while self.stream.current.type != "rbracket":
                if not first:
                    self.stream.expect("comma")
                first = False
                self._parse_type_name()
            self.stream.expect("rbracket")


class MacroFuzzEnvironment(jinja2.sandbox.SandboxedEnvironment):
    def _parse(self, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        return MacroFuzzParser(self, source, name, filename).parse()

    def handle_exception(self, source: str | None = None) -> Any:
        # Jinja rewrites tracebacks by copying the whole context, which our lazily resolved context refuses;
        # the renderer reports errors itself, so the exception is passed on as it is.
        raise


class MacroFuzzTemplate(jinja2.nativetypes.NativeTemplate):
    environment_class = MacroFuzzEnvironment  # type: ignore[assignment]

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> jinja2.runtime.Context:
        if shared or locals:
            raise RuntimeError("MacroFuzzTemplate.new_context() does not take shared or locals")
        vars = {} if vars is None else vars
        parent: Any = ChainMap(vars, self.globals) if self.globals else vars
        return self.environment.context_class(self.environment, parent, self.name, self.blocks)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != 1:
            raise RuntimeError("MacroFuzzTemplate.render() takes exactly one argument")
        context = self.new_context(args[0])
        try:
            return "".join(self.root_render_func(context))
        except Exception:
            return self.environment.handle_exception()


MacroFuzzEnvironment.template_class = MacroFuzzTemplate


class NativeSandboxEnvironment(MacroFuzzEnvironment):
    code_generator_class = jinja2.nativetypes.NativeCodeGenerator


class TextMarker(str):
    """A native-env marker: the value is text and is not to be evaluated."""


class NativeMarker(str):
    """A native-env marker: the value is passed to literal_eval."""


class BoolMarker(NativeMarker):
    pass


class NumberMarker(NativeMarker):
    pass


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class NativeRenderError(Exception):
    pass


def quoted_native_concat(nodes: Iterator[Any]) -> Any:
    head = list(islice(nodes, 2))
    if not head:
        return ""
    if len(head) == 1:
        raw = head[0]
        if isinstance(raw, TextMarker):
            return str(raw)
        if not isinstance(raw, NativeMarker):
            return raw
    else:
        return "".join([str(v) for v in chain(head, nodes)])
    try:
        result = literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError):
        result = raw
    if isinstance(raw, BoolMarker) and not isinstance(result, bool):
        raise NativeRenderError(f"Could not convert value '{raw!s}' into type 'bool'")
    if isinstance(raw, NumberMarker) and not _is_number(result):
        raise NativeRenderError(f"Could not convert value '{raw!s}' into type 'number'")
    return result


class NativeSandboxTemplate(jinja2.nativetypes.NativeTemplate):
    environment_class = NativeSandboxEnvironment  # type: ignore[assignment]

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> jinja2.runtime.Context:
        # dbt's native template copies the context into a dict here; a ChainMap resolves names identically
        # without enumerating our lazily resolved context.
        return MacroFuzzTemplate.new_context(self, vars, shared, locals)  # type: ignore[arg-type]

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return quoted_native_concat(self.root_render_func(self.new_context(args[0])))
        except Exception:
            return self.environment.handle_exception()


NativeSandboxEnvironment.template_class = NativeSandboxTemplate


class MaterializationExtension(jinja2.ext.Extension):
    tags = {"materialization"}  # noqa: RUF012 - Jinja's declared attribute

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        materialization_name = parser.parse_assign_target(name_only=True).name
        adapter_name = "default"
        node.args = []
        node.defaults = []
        while parser.stream.skip_if("comma"):
            target = parser.parse_assign_target(name_only=True)
            if target.name == "default":
                pass
            elif target.name == "adapter":
                parser.stream.expect("assign")
                value = parser.parse_expression()
                adapter_name = value.value  # type: ignore[attr-defined]
            elif target.name == "supported_languages":
                target.set_ctx("param")
                node.args.append(target)
                parser.stream.expect("assign")
                node.defaults.append(parser.parse_expression())
            else:
                parser.fail(f"materialization '{materialization_name}' got an invalid argument")
        supported = jinja2.nodes.Name("supported_languages", "param")
        if supported not in node.args:
            node.args.append(supported)
            node.defaults.append(jinja2.nodes.List([jinja2.nodes.Const("sql")]))
        node.name = dbt_macro_name(f"materialization_{materialization_name}_{adapter_name}")
        node.body = parser.parse_statements(("name:endmaterialization",), drop_needle=True)
        return node


class DocumentationExtension(jinja2.ext.Extension):
    tags = {"docs"}  # noqa: RUF012

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        docs_name = parser.parse_assign_target(name_only=True).name
        node.args = []
        node.defaults = []
        node.name = f"{DOCS_PREFIX}{docs_name}"
        node.body = parser.parse_statements(("name:enddocs",), drop_needle=True)
        return node


class TestExtension(jinja2.ext.Extension):
    tags = {"test"}  # noqa: RUF012

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        test_name = parser.parse_assign_target(name_only=True).name
        parser.parse_signature(node)
        node.name = dbt_macro_name(f"test_{test_name}")
        node.body = parser.parse_statements(("name:endtest",), drop_needle=True)
        return node


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class ParseUndefined(jinja2.Undefined):
    """dbt's parse-time Undefined: anything unknown is silently absorbed (dbt's `create_undefined`)."""

    def __init__(self, hint: str | None = None, obj: Any = None, name: str | None = None, exc: Any = None):
        super().__init__(hint=hint, name=name)
        self.name = name
        self.hint = hint
        self.unsafe_callable = False
        self.alters_data = False

    def __getitem__(self, name: Any) -> ParseUndefined:  # type: ignore[override]
        return self

    def __getattr__(self, name: str) -> ParseUndefined:
        if name == "name" or _is_dunder(name):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        self.name = name
        return self.__class__(hint=self.hint, name=self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> ParseUndefined:  # type: ignore[override]
        return self


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


TEXT_FILTERS: dict[str, Any] = {
    "as_text": lambda x: x,
    "as_bool": lambda x: x,
    "as_native": lambda x: x,
    "as_number": lambda x: x,
    "is_list": _is_list,
}
NATIVE_FILTERS: dict[str, Any] = {
    "as_text": TextMarker,
    "as_bool": BoolMarker,
    "as_native": NativeMarker,
    "as_number": NumberMarker,
    "is_list": _is_list,
}
_EXTENSIONS: list[Any] = [
    "jinja2.ext.do",
    "jinja2.ext.loopcontrols",
    MaterializationExtension,
    DocumentationExtension,
    TestExtension,
]


_ENVIRONMENTS: dict[tuple[bool, bool], jinja2.Environment] = {}
# Compiled template code by (source, native): the text and parse-mode environments generate the same code
# (they differ only in their Undefined class, which is looked up at run time), so one compile serves both.
_CODE: dict[tuple[str, bool], Any] = {}


def environment(capture_macros: bool = False, native: bool = False) -> jinja2.Environment:
    """One shared environment per kind: dbt builds a fresh, identical one for every render."""
    key = (capture_macros, native)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _ENVIRONMENTS[key] = make_environment(capture_macros, native)
    return env


_CODE_DIRECTORY: list[Any] = []  # where compiled template code persists between processes, if anywhere


def use_code_cache(directory: Any) -> None:
    """Persist compiled template code under `directory` (a compile cache's `templates/`), or stop (None)."""
    _CODE_DIRECTORY[:] = [directory] if directory is not None else []


def _compiled_code(env: jinja2.Environment, source: str, native: bool) -> Any:
    key = (source, native)
    code = _CODE.get(key)
    if code is not None:
        return code
    path = None
    if _CODE_DIRECTORY:
        import hashlib
        import importlib.util
        import marshal

        from framework.compile import store

        salt = f"{importlib.util.MAGIC_NUMBER.hex()} {jinja2.__version__} {native}\0"
        digest = hashlib.sha256((salt + source).encode("utf-8")).hexdigest()
        path = _CODE_DIRECTORY[0] / digest[:2] / digest
        try:
            code = marshal.loads(store.decode(path.read_bytes()))
        except (OSError, ValueError, EOFError, TypeError, store.CacheCorrupted):
            code = None
    if code is None:
        code = env.compile(source)
        if path is not None:
            store.atomic_write(path, store.encode(marshal.dumps(code)))
    _CODE[key] = code
    return code


def template(source: str, globals: Any, capture_macros: bool = False, native: bool = False) -> Any:
    """`env.from_string(source, globals=...)`, compiling each distinct source once (per cache, with
    `use_code_cache`; else per process)."""
    env = environment(capture_macros, native)
    code = _compiled_code(env, source, native)
    return env.template_class.from_code(env, code, env.make_globals(globals))


def make_environment(capture_macros: bool = False, native: bool = False) -> jinja2.Environment:
    """dbt-common's `get_environment()`: parse mode (`capture_macros`) absorbs unknown names."""
    options: dict[str, Any] = {"extensions": list(_EXTENSIONS)}
    if capture_macros:
        options["undefined"] = ParseUndefined
    environment: jinja2.Environment
    if native:
        environment = NativeSandboxEnvironment(**options)
        environment.filters.update(NATIVE_FILTERS)
    else:
        environment = MacroFuzzEnvironment(**options)
        environment.filters.update(TEXT_FILTERS)
    return environment
