#!/usr/bin/env python3
"""Compiles docs/api/openapi.yaml into a C++ source file the daemon serves.

    python3 control/api/openapi_embed.py docs/api/openapi.yaml OUT.cc

The output defines corridor::control::api::kOpenApiJson (declared in
control/api/openapi_document.h): the document as compact JSON, in a raw
string literal, answered by GET /api/v1/openapi.json. meson runs this as
the custom target openapi_document_cc (control/api/meson.build). Needs
python3-yaml. Exit status 1 (with the reason on stderr) if the YAML is not
an OpenAPI 3 document or cannot be embedded.
"""

import json
import os
import re
import sys

import yaml

DELIMITER = "corridor_json"
HEADER = ("// Generated from docs/api/openapi.yaml by control/api/openapi_embed.py; do not edit.\n"
          '#include "control/api/openapi_document.h"\n'
          "namespace corridor::control::api {\n")
FOOTER = "}\n"
# A string literal past this is outside what every compiler promises (C++
# [implimits] suggests 65536); g++ and clang take far more, so this is only a
# guard against embedding something absurd by mistake.
MAX_BYTES = 4 * 1024 * 1024


class Error(Exception):
    pass


def check_keys(node, where="#"):
    """JSON keys are strings; YAML 1.1 makes unquoted 200 an int, yes/no booleans."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                raise Error(f"{where}: key {k!r} is a {type(k).__name__}, not a string (quote it in the YAML)")
            check_keys(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            check_keys(v, f"{where}/{i}")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise Error(f"cannot read: {e.strerror}")
    except yaml.YAMLError as e:
        raise Error(f"not valid YAML: {e}")
    if not isinstance(doc, dict):
        raise Error("not a YAML mapping")
    version = doc.get("openapi")
    if not isinstance(version, str) or not re.match(r"^3\.\d+\.\d+$", version):
        raise Error(f"not an OpenAPI 3 document: 'openapi' is {version!r}, expected \"3.x.y\"")
    if not isinstance(doc.get("info"), dict):
        raise Error("not an OpenAPI 3 document: no 'info' object")
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        raise Error("not an OpenAPI 3 document: no 'paths' object")
    check_keys(doc)
    return doc


def render(doc):
    try:
        # ensure_ascii (the default) keeps the C++ source pure ASCII.
        text = json.dumps(doc, separators=(",", ":"), sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise Error(f"not representable as JSON: {e}")
    if ")" + DELIMITER + '"' in text:
        raise Error(f"the text contains the raw-string terminator ){DELIMITER}\"")
    if len(text) > MAX_BYTES:
        raise Error(f"the JSON is {len(text)} bytes, more than {MAX_BYTES}")
    return (HEADER
            + f'const std::string_view kOpenApiJson = R"{DELIMITER}({text}){DELIMITER}";\n'
            + FOOTER)


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} OPENAPI.yaml OUT.cc", file=sys.stderr)
        return 64
    src, out = argv[1], argv[2]
    try:
        code = render(load(src))
    except Error as e:
        print(f"openapi_embed: {src}: {e}", file=sys.stderr)
        return 1
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(code)
    os.replace(tmp, out)  # never leave a half-written source for ninja
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
