"""Reading YAML that may be hostile, with bounded time and memory.

A problem file is plain data: mappings, lists, strings, numbers, booleans and nulls. This
module parses it with libyaml's C parser where PyYAML was built with it (several times faster
on large files), then builds the value from the node graph in one walk that refuses, before
any of it is used:

- nesting at most :data:`MAX_DEPTH` levels (aliases included);
- no alias that contains itself (a recursive alias);
- aliases may not expand the document beyond :data:`MAX_EXPANSION` times the nodes written,
  or :data:`MIN_EXPANSION_ALLOWED` nodes for small files (this stops "billion laughs" bombs);
- no duplicate key in a mapping (the message names the key and both lines);
- only the standard tags of plain data: no ``!!python/...``, ``!!binary``, ``!!set`` or custom
  ``!tags``.

Each refusal is a :class:`~allocator.errors.ProblemError` naming the line. The walk visits each
distinct node once, so it costs time linear in the file, whatever the aliases; it builds the
same values as ``yaml.safe_load`` (tests/test_yaml_safe.py), with aliased collections shared.

>>> parse("a: 1\\nb: [x, y]").data
{'a': 1, 'b': ['x', 'y']}
>>> parse("a: 1\\na: 2")
Traceback (most recent call last):
...
allocator.errors.ProblemError: line 2: duplicate key 'a' (first at line 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ..errors import ProblemError

MAX_DEPTH = 64                   # nested mappings and lists, counted along any path
MAX_EXPANSION = 10               # expanded nodes / written nodes
MIN_EXPANSION_ALLOWED = 100_000  # expanded nodes always allowed, for small files

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in
                         ("null", "bool", "int", "float", "str", "seq", "map", "timestamp",
                          "merge"))


class _Constructor(SafeConstructor):
    """SafeLoader's constructor, limited to the tags of plain data."""

    yaml_constructors = {tag: fn for tag, fn in SafeConstructor.yaml_constructors.items()
                         if tag in ALLOWED_TAGS}


@dataclass(frozen=True)
class Parsed:
    """A parsed document and its node graph (for line numbers)."""

    data: Any
    root: yaml.Node | None

    def line_of(self, path: str | None) -> int | None:
        """1-based line of the node at ``path`` (``tasks[2].memory``), or of its nearest
        parent that exists. Follows the path only: no walk over the whole document."""
        return line_of(self.root, path)


def parse(text: str, source: str | None = None) -> Parsed:
    """Parse one YAML document of plain data, or raise :class:`ProblemError`."""
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from None
    except RecursionError:                      # the pure-Python parser on deep nesting
        raise ProblemError(f"nesting deeper than {MAX_DEPTH} levels", source=source) from None
    if root is None:
        return Parsed(None, None)
    return Parsed(build(root, source), root)


def _yaml_error(exc: yaml.YAMLError, source: str | None) -> ProblemError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "nesting depth" in problem:
        return ProblemError(f"nesting deeper than {MAX_DEPTH} levels", line=line, source=source)
    return ProblemError(f"malformed YAML: {problem}", line=line, source=source)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _check_node(node: yaml.Node, source: str | None) -> None:
    if node.tag not in ALLOWED_TAGS:
        tag = node.tag.replace(_CORE, "!!")
        raise ProblemError(f"tag {tag!r} is not allowed: a problem holds plain mappings, "
                           "lists, strings and numbers", line=_line(node), source=source)
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise ProblemError("a key must be a plain value, not a list or mapping",
                                   line=_line(key), source=source)
            if key.tag == _CORE + "merge":
                continue
            ident = (key.tag, key.value)
            if ident in seen:
                raise ProblemError(f"duplicate key {key.value!r} (first at line {seen[ident]})",
                                   line=_line(key), source=source)
            seen[ident] = _line(key)


_STR, _INT, _FLOAT, _BOOL, _NULL, _MERGE = (_CORE + t for t in
                                          ("str", "int", "float", "bool", "null", "merge"))


class _Scalars:
    """Scalar values as SafeLoader builds them, the common spellings without its dispatch."""

    def __init__(self, source: str | None):
        self.fallback, self.source = _Constructor(), source

    def __call__(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _INT and value.isascii() and value.isdigit() and (value[0] != "0"
                                                                     or value == "0"):
            return int(value)                   # plain decimal; YAML 1.1 reads 010 as octal
        if tag == _FLOAT and value[:1] != "." and ":" not in value:
            try:
                return float(value)
            except ValueError:
                pass
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return SafeConstructor.bool_values[value.lower()]
        try:
            return self.fallback.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:
            raise ProblemError(f"cannot read {value!r}: {exc}", line=_line(node),
                               source=self.source) from None


def build(root: yaml.Node, source: str | None = None) -> Any:
    """The document's value, after refusing deep nesting, recursive or exploding aliases,
    duplicate keys and foreign tags.

    One iterative walk, children before parents, over the distinct collections (scalars, most
    of a file, are checked and built where they stand); an alias is an edge to a collection
    already built, so it is shared (as SafeLoader shares it) and its size counted, not walked
    again: time is linear in the file, whatever the aliases.
    """
    scalar = _Scalars(source)
    if isinstance(root, yaml.ScalarNode):
        _check_node(root, source)
        return scalar(root)
    built: dict[int, Any] = {}        # collection -> its value
    height: dict[int, int] = {}       # levels of collections at and below a collection
    size: dict[int, int] = {}         # nodes at and below it once aliases are expanded
    open_nodes: set[int] = set()      # the current path, to catch a node inside itself
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    written = 0
    allowed, scalar_node = ALLOWED_TAGS, yaml.ScalarNode
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            _finish(node, built, height, size, scalar, source)
            continue
        if key in height:
            continue
        open_nodes.add(key)
        written += 1
        _check_node(node, source)
        stack.append((node, True))
        for kid in _children(node):
            if kid.__class__ is scalar_node:
                written += 1
                if kid.tag not in allowed:
                    _check_node(kid, source)
            elif id(kid) in open_nodes:
                raise ProblemError("recursive alias: a node contains itself", line=_line(kid),
                                   source=source)
            elif id(kid) not in height:
                stack.append((kid, False))
    limit = max(MIN_EXPANSION_ALLOWED, MAX_EXPANSION * written)
    if size[id(root)] > limit:
        raise ProblemError(f"aliases expand {written:,} written nodes to {size[id(root)]:,}, "
                           f"more than the limit of {limit:,} (an alias bomb?)",
                           line=_line(root), source=source)
    return built[id(root)]


def _finish(node: yaml.Node, built: dict, height: dict, size: dict, scalar,
            source: str | None) -> None:
    """Build a collection whose children are built: its value, its height (levels of
    collections at and below it) and its size once aliases are expanded."""
    h, n = 0, 1
    scalar_node = yaml.ScalarNode
    if node.__class__ is yaml.MappingNode:
        value: Any = {}
        merged = []
        for k, v in node.value:
            if v.__class__ is scalar_node:
                item, n = scalar(v), n + 2
            else:
                item, h, n = built[id(v)], max(h, height[id(v)]), n + 1 + size[id(v)]
            if k.tag == _MERGE:
                merged.append((k, item))
            else:
                value[scalar(k)] = item
        if merged:
            value = _merge(merged, value, source)
    else:
        value = []
        for v in node.value:
            if v.__class__ is scalar_node:
                value.append(scalar(v))
                n += 1
            else:
                value.append(built[id(v)])
                h, n = max(h, height[id(v)]), n + size[id(v)]
    if h + 1 > MAX_DEPTH:
        raise ProblemError(f"nesting deeper than {MAX_DEPTH} levels (aliases expanded)",
                           line=_line(node), source=source)
    key = id(node)
    built[key], height[key], size[key] = value, h + 1, n


def _merge(merged: list[tuple[yaml.Node, Any]], explicit: dict, source: str | None) -> dict:
    """YAML's merge key (``<<: *defaults`` or ``<<: [*a, *b]``): the mapping's own keys win,
    then the merged mappings in the order given."""
    out: dict = {}
    for node, value in reversed(merged):
        sources = value if isinstance(value, list) else [value]
        for item in reversed(sources):
            if not isinstance(item, dict):
                raise ProblemError("a merge key (<<) takes a mapping or a list of mappings",
                                   line=_line(node), source=source)
            out.update(item)
    out.update(explicit)
    return out


def line_of(root: yaml.Node | None, path: str | None) -> int | None:
    """1-based line of the node at ``path``, or of its nearest existing parent.

    Keys may hold dots (``throughput.llama-1.3b.h100``): at a mapping, the longest key that
    the rest of the path starts with is taken.
    """
    if root is None or not path:
        return None
    node, line, rest = root, None, path
    while rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0 or not isinstance(node, yaml.SequenceNode):
                break
            try:
                node = node.value[int(rest[1:end])]
            except (ValueError, IndexError):
                break
            line, rest = _line(node), rest[end + 1:]
        else:
            rest = rest[1:] if rest.startswith(".") else rest
            if not isinstance(node, yaml.MappingNode):
                break
            match = max(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)
                         and rest.startswith(k.value)
                         and rest[len(k.value):len(k.value) + 1] in ("", ".", "[")),
                        key=lambda kv: len(kv[0].value), default=None)
            if match is None:
                break
            line, node, rest = _line(match[0]), match[1], rest[len(match[0].value):]
    return line
