"""``.. mount-options::`` — a settings table built from the code's own schema.

Usage::

    .. mount-options:: s3

       :bucket: Name of the bucket.
       :prefix: Folder inside the bucket that acts as the mount root.

The argument is a mount type, ``child`` for the keys of a child mount, or
``common`` for the options every mount accepts. Type, default and "required"
come from the ``Option`` objects in ``genro_storage_django``; the prose comes
from the field list. A key of the
schema without a description, or a description of a key the schema does not
have, is a build warning, so ``sphinx-build -W`` fails when docs and code drift.
"""

from __future__ import annotations

import os
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

TYPE_NAMES = {str: "str", bool: "bool", int: "int", float: "float", dict: "dict"}


def _schema(mount_type: str) -> dict[str, Any]:
    from genro_storage_django.backends import backend_class
    from genro_storage_django.schema import COMMON_OPTIONS

    if mount_type == "common":
        return dict(COMMON_OPTIONS)
    if mount_type == "child":
        from genro_storage_django.child_mounts import CHILD_OPTIONS

        return dict(CHILD_OPTIONS)
    return dict(backend_class(mount_type).options)


def _type_text(option: Any) -> str:
    if option.choices:
        return " | ".join(repr(choice).replace("'", '"') for choice in option.choices)
    names = [TYPE_NAMES.get(t, "path" if t is os.PathLike else t.__name__) for t in option.types]
    return " or ".join(names)


def _default_text(option: Any) -> str:
    if option.required or option.default is None:
        return "—"
    return repr(option.default).replace("'", '"')


def _cell(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry.extend(children)
    return entry


def _text_cell(text: str, literal: bool = False) -> nodes.entry:
    node = nodes.literal(text, text) if literal else nodes.Text(text)
    return _cell(nodes.paragraph("", "", node))


class MountOptions(SphinxDirective):
    required_arguments = 1
    has_content = True
    option_spec = {"class": directives.class_option}

    headers = ("Key", "Type", "Default", "Required", "Meaning")

    def run(self) -> list[nodes.Node]:
        mount_type = self.arguments[0]
        try:
            schema = _schema(mount_type)
        except (KeyError, ImportError) as exc:
            raise self.error(f"mount-options: unknown mount type {mount_type!r} ({exc})") from exc

        parsed = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, parsed)
        descriptions: dict[str, nodes.field_body] = {}
        for field in parsed.findall(nodes.field):
            descriptions[field[0].astext().strip()] = field[1]

        where = self.get_location()
        for key in schema:
            if key not in descriptions:
                logger.warning(
                    "mount-options %s: key %r is in the schema but not documented",
                    mount_type,
                    key,
                    location=where,
                )
        for key in descriptions:
            if key not in schema:
                logger.warning(
                    "mount-options %s: key %r is documented but not in the schema",
                    mount_type,
                    key,
                    location=where,
                )
        if not schema:
            text = "No options of its own: only the options of every mount."
            return [nodes.paragraph(text, text)]
        return [self._table(schema, descriptions)]

    def _table(
        self, schema: dict[str, Any], descriptions: dict[str, nodes.field_body]
    ) -> nodes.table:
        table = nodes.table(classes=["mount-options", *self.options.get("class", [])])
        group = nodes.tgroup(cols=len(self.headers))
        table += group
        for width in (14, 14, 10, 8, 54):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += nodes.row("", *(_text_cell(title) for title in self.headers))
        body = nodes.tbody()
        group += body
        for key, option in schema.items():
            key_cell = _text_cell(key, literal=True)
            if option.secret:
                key_cell += nodes.paragraph("", "", nodes.emphasis("secret", "secret"))
            meaning = _cell(*(child.deepcopy() for child in descriptions.get(key, [])))
            body += nodes.row(
                "",
                key_cell,
                _text_cell(_type_text(option), literal=True),
                _text_cell(_default_text(option), literal=_default_text(option) != "—"),
                _text_cell("yes" if option.required else "no"),
                meaning,
            )
        return table


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("mount-options", MountOptions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
