"""Reading YAML that may be hostile, with bounded time and memory.

A problem file is plain data: mappings, lists, strings, numbers, booleans and nulls. This
module parses it with libyaml's C parser where PyYAML was built with it (several times faster
on large files), then checks the node graph *before* anything is built from it:

- nesting at most :data:`MAX_DEPTH` levels (aliases included);
- no alias that contains itself (a recursive alias);
- aliases may not expand the document beyond :data:`MAX_EXPANSION` times the nodes written,
  or :data:`MIN_EXPANSION_ALLOWED` nodes for small files (this stops "billion laughs" bombs);
- no duplicate key in a mapping (the message names the key and both lines);
- only the standard tags of plain data: no ``!!python/...``, ``!!binary``, ``!!set`` or custom
  ``!tags``.

Each refusal is a :class:`~allocator.errors.ProblemError` naming the line. The checks walk each
distinct node once, so they cost time linear in the file, whatever the aliases.

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

from .errors import ProblemError

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
    check_graph(root, source)
    try:
        data = _Constructor().construct_document(root)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from None
    return Parsed(data, root)


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


def check_graph(root: yaml.Node, source: str | None = None) -> None:
    """Refuse deep nesting, recursive or exploding aliases, duplicate keys and foreign tags.

    One iterative depth-first walk over the distinct collections (scalars, most of a file,
    are checked where they stand and never stacked); an alias is an edge to a node already
    seen, so its size is counted, not walked again.
    """
    height: dict[int, int] = {}       # levels of collections at and below a collection
    size: dict[int, int] = {}         # nodes at and below it once aliases are expanded
    open_nodes: set[int] = set()      # the current path, to catch a node inside itself
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    written = 0
    allowed, scalar = ALLOWED_TAGS, yaml.ScalarNode
    if isinstance(root, scalar):
        _check_node(root, source)
        return
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            h, n = 0, 1
            for kid in _children(node):
                if kid.__class__ is not scalar:
                    h, n = max(h, height[id(kid)]), n + size[id(kid)]
                else:
                    n += 1
            if h + 1 > MAX_DEPTH:
                raise ProblemError(f"nesting deeper than {MAX_DEPTH} levels (aliases expanded)",
                                   line=_line(node), source=source)
            height[key], size[key] = h + 1, n
            continue
        if key in height:
            continue
        open_nodes.add(key)
        written += 1
        _check_node(node, source)
        stack.append((node, True))
        for kid in _children(node):
            if kid.__class__ is scalar:
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
    check_graph(root, source)
    try:
        data = _Constructor().construct_document(root)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from None
    return Parsed(data, root)


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


def check_graph(root: yaml.Node, source: str | None = None) -> None:
    """Refuse deep nesting, recursive or exploding aliases, duplicate keys and foreign tags.

    One iterative depth-first walk over the distinct nodes; an alias is an edge to a node
    already seen, so its size is counted, not walked again.
    """
    height: dict[int, int] = {}       # levels of collections at and below a node
    size: dict[int, int] = {}         # nodes below a node once aliases are expanded
    open_nodes: set[int] = set()      # the current path, to catch a node inside itself
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    written = 0
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            kids = _children(node)
            h = (1 + max((height[id(k)] for k in kids), default=0)
                 if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) else 0)
            if h > MAX_DEPTH:
                raise ProblemError(f"nesting deeper than {MAX_DEPTH} levels (aliases expanded)",
                                   line=_line(node), source=source)
            height[key] = h
            size[key] = 1 + sum(size[id(k)] for k in kids)
            continue
        if key in height:
            continue
        open_nodes.add(key)
        written += 1
        _check_node(node, source)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in open_nodes:
                raise ProblemError("recursive alias: a node contains itself", line=_line(kid),
                                   source=source)
            if id(kid) not in height:
                stack.append((kid, False))
    limit = max(MIN_EXPANSION_ALLOWED, MAX_EXPANSION * written)
    if size[id(root)] > limit:
        raise ProblemError(f"aliases expand {written:,} written nodes to {size[id(root)]:,}, "
                           f"more than the limit of {limit:,} (an alias bomb?)",
                           line=_line(root), source=source)


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
