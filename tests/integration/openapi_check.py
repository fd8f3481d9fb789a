#!/usr/bin/python3
"""Offline structural checks of an OpenAPI 3.0 document (docs/api/openapi.yaml).

    /usr/bin/python3 tests/integration/openapi_check.py [FILE]   (default: docs/api/openapi.yaml)

Needs only python3-yaml. Checked:
  - the YAML parses, has no duplicate keys (PyYAML would silently keep the
    last one) and only string keys (an unquoted 200 or yes/no becomes an int
    or a boolean under YAML 1.1);
  - `openapi` is 3.0.x, `info` has title and version, `paths` is there;
  - every local $ref resolves (remote refs are refused: this is offline), no
    $ref has siblings (OpenAPI 3.0 ignores them, so `nullable` next to a
    $ref does nothing), every referenced schema exists;
  - every path starts with '/', no two templates differ only in parameter
    names, every {param} of a template is declared as a required `in: path`
    parameter (at path or operation level) and every `in: path` parameter
    appears in the template, no parameter is declared twice;
  - every operation has an operationId (unique, camelCase), a summary, a
    description naming its scope ("Scope: ..."), responses with valid codes,
    each with a description, and at least one 2xx response; error responses
    (4xx, 5xx) with a body use application/problem+json;
  - schemas use 3.0 syntax: `type` a single known name (no type arrays, no
    "null": use nullable), arrays have `items`, no 3.1-only keywords, enum
    values, examples and defaults of the declared type;
  - security requirements name declared schemes (with no scopes for http).
Prints each problem and exits 1 if there is any, else prints a summary and
exits 0.
"""

import re
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_TYPES = {"string", "number", "integer", "boolean", "array", "object"}
# JSON Schema keywords OpenAPI 3.0 does not have (2019-09 / 3.1 only).
NOT_IN_30 = {"const", "examples", "$schema", "$id", "$defs", "prefixItems", "contains",
             "if", "then", "else", "dependentRequired", "dependentSchemas",
             "unevaluatedProperties", "unevaluatedItems", "propertyNames", "contentMediaType",
             "contentEncoding", "patternProperties"}
PARAM_IN = {"query", "header", "path", "cookie"}
RESPONSE_CODE = re.compile(r"^(default|[1-5]XX|[1-5][0-9][0-9])$")
OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]*$")
TEMPLATE_PARAM = re.compile(r"\{([^{}/]+)\}")


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "unhashable key", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"duplicate key {key!r} (first at line {seen[key].line + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def pointer(parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.problems = []
        self.operations = 0

    def problem(self, where, message):
        self.problems.append(f"{pointer(where) if isinstance(where, (list, tuple)) else where}: {message}")

    # --- references --------------------------------------------------------
    def resolve_pointer(self, ref):
        if not ref.startswith("#"):
            return None, "not a local reference (remote $ref cannot be checked offline)"
        frag = ref[1:]
        if frag == "":
            return self.doc, None
        if not frag.startswith("/"):
            return None, "fragment is not a JSON pointer"
        node = self.doc
        for raw in frag[1:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None, f"does not resolve ({part!r} not found)"
        return node, None

    def deref(self, node, where, seen=None):
        """Follows $ref chains; returns the target (or None if broken)."""
        seen = set() if seen is None else seen
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                return None
            if ref in seen:
                self.problem(where, f"$ref cycle through {ref}")
                return None
            seen.add(ref)
            node, err = self.resolve_pointer(ref)
            if err:
                return None
        return node

    def check_refs(self, node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                ref = node["$ref"]
                if not isinstance(ref, str):
                    self.problem(where, "$ref is not a string")
                else:
                    target, err = self.resolve_pointer(ref)
                    if err:
                        self.problem(where, f"$ref {ref}: {err}")
                    m = re.match(r"^#/components/(schemas|parameters|responses|requestBodies|headers|"
                                 r"securitySchemes|examples|links|callbacks)/([^/]+)$", ref)
                    if ref.startswith("#/") and not err and not m:
                        self.problem(where, f"$ref {ref} does not point at a component")
                siblings = sorted(str(k) for k in node if k != "$ref")
                # A Reference Object's siblings are ignored in 3.0 (a Path Item's $ref is another field).
                is_path_item = len(where) == 2 and where[0] == "paths"
                if siblings and not is_path_item:
                    self.problem(where, f"$ref has siblings {siblings}, which OpenAPI 3.0 ignores "
                                 "(wrap the $ref in allOf)")
            for k, v in node.items():
                if not isinstance(k, str):
                    self.problem(list(where) + [k], f"key {k!r} is a {type(k).__name__}, not a string "
                                 "(quote it: YAML 1.1 reads 200 as a number and yes/no as booleans)")
                self.check_refs(v, list(where) + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.check_refs(v, list(where) + [i])

    # --- schemas -----------------------------------------------------------
    @staticmethod
    def value_matches(value, typ):
        if value is None:
            return None  # handled by nullable
        if typ == "string":
            return isinstance(value, str)
        if typ == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if typ == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if typ == "boolean":
            return isinstance(value, bool)
        if typ == "array":
            return isinstance(value, list)
        if typ == "object":
            return isinstance(value, dict)
        return True

    def check_schema(self, schema, where):
        if not isinstance(schema, dict):
            self.problem(where, "schema is not an object")
            return
        if "$ref" in schema:
            return  # checked by check_refs; the target is checked where it is defined
        for k in schema:
            if k in NOT_IN_30:
                self.problem(where, f"'{k}' is not an OpenAPI 3.0 schema keyword")
        typ = schema.get("type")
        if typ is not None:
            if isinstance(typ, list):
                self.problem(where, "type arrays are OpenAPI 3.1; use one type and nullable: true")
                typ = None
            elif typ not in SCHEMA_TYPES:
                self.problem(where, f"unknown type {typ!r}" + (" (use nullable: true)" if typ == "null" else ""))
                typ = None
        if "nullable" in schema and not isinstance(schema["nullable"], bool):
            self.problem(where, "nullable must be a boolean")
        nullable = schema.get("nullable") is True
        for kw in ("exclusiveMinimum", "exclusiveMaximum"):
            if kw in schema and not isinstance(schema[kw], bool):
                self.problem(where, f"{kw} must be a boolean in OpenAPI 3.0")
        if typ == "array" and "items" not in schema:
            self.problem(where, "array schema without items")
        if "required" in schema:
            req = schema["required"]
            if not isinstance(req, list) or not req or not all(isinstance(r, str) for r in req):
                self.problem(where, "required must be a non-empty list of names")
            elif len(set(req)) != len(req):
                self.problem(where, "required lists a name twice")
            elif schema.get("additionalProperties") is False:
                props = schema.get("properties", {})
                for r in req:
                    if r not in props:
                        self.problem(where, f"required property {r!r} is not in properties "
                                     "and additionalProperties is false")
        if typ is not None:
            for kw in ("enum",):
                if kw in schema:
                    if not isinstance(schema[kw], list) or not schema[kw]:
                        self.problem(where, "enum must be a non-empty list")
                        continue
                    for v in schema[kw]:
                        ok = self.value_matches(v, typ)
                        if ok is None and not nullable:
                            self.problem(where, "enum has null but the schema is not nullable")
                        elif ok is False:
                            self.problem(where, f"enum value {v!r} is not of type {typ}")
            for kw in ("example", "default"):
                if kw in schema:
                    ok = self.value_matches(schema[kw], typ)
                    if ok is None and not nullable:
                        self.problem(where, f"{kw} is null but the schema is not nullable")
                    elif ok is False:
                        self.problem(where, f"{kw} {schema[kw]!r} is not of type {typ}")
            if typ in ("integer", "number") and isinstance(schema.get("default"), (int, float)):
                d = schema["default"]
                if "minimum" in schema and d < schema["minimum"] or "maximum" in schema and d > schema["maximum"]:
                    self.problem(where, f"default {d} is outside minimum/maximum")
        if "pattern" in schema:
            try:
                re.compile(schema["pattern"])
            except (re.error, TypeError) as e:
                self.problem(where, f"pattern does not compile: {e}")
        props = schema.get("properties")
        if props is not None:
            if not isinstance(props, dict):
                self.problem(where, "properties is not an object")
            else:
                for name, sub in props.items():
                    self.check_schema(sub, list(where) + ["properties", name])
        if "items" in schema:
            if isinstance(schema["items"], list):
                self.problem(where, "items must be one schema (tuple items are not OpenAPI 3.0)")
            else:
                self.check_schema(schema["items"], list(where) + ["items"])
        ap = schema.get("additionalProperties")
        if isinstance(ap, dict):
            self.check_schema(ap, list(where) + ["additionalProperties"])
        elif ap is not None and not isinstance(ap, bool):
            self.problem(where, "additionalProperties must be a boolean or a schema")
        for kw in ("allOf", "oneOf", "anyOf"):
            if kw in schema:
                if not isinstance(schema[kw], list) or not schema[kw]:
                    self.problem(where, f"{kw} must be a non-empty list")
                else:
                    for i, sub in enumerate(schema[kw]):
                        self.check_schema(sub, list(where) + [kw, i])
        if "not" in schema:
            self.check_schema(schema["not"], list(where) + ["not"])

    def check_content(self, content, where):
        if not isinstance(content, dict) or not content:
            self.problem(where, "content must name at least one media type")
            return
        for mt, media in content.items():
            if not isinstance(media, dict):
                self.problem(list(where) + [mt], "media type object is not an object")
                continue
            if "schema" in media:
                self.check_schema(media["schema"], list(where) + [mt, "schema"])

    # --- parameters --------------------------------------------------------
    def check_parameter(self, param, where):
        p = self.deref(param, where)
        if not isinstance(p, dict):
            return None
        name, loc = p.get("name"), p.get("in")
        if isinstance(param, dict) and "$ref" in param:
            return (name, loc, p)  # the component itself is checked under /components/parameters
        if not isinstance(name, str) or not name:
            self.problem(where, "parameter without a name")
        if loc not in PARAM_IN:
            self.problem(where, f"parameter 'in' is {loc!r}, not one of {sorted(PARAM_IN)}")
        if loc == "path" and p.get("required") is not True:
            self.problem(where, f"path parameter {name!r} must have required: true")
        if ("schema" in p) == ("content" in p):
            self.problem(where, f"parameter {name!r} needs exactly one of schema and content")
        if "schema" in p:
            self.check_schema(p["schema"], list(where) + ["schema"])
        return (name, loc, p)

    def param_list(self, params, where):
        out = {}
        if params is None:
            return out
        if not isinstance(params, list):
            self.problem(where, "parameters is not a list")
            return out
        for i, param in enumerate(params):
            got = self.check_parameter(param, list(where) + [i])
            if got is None:
                continue
            name, loc, p = got
            if (name, loc) in out:
                self.problem(list(where) + [i], f"parameter {name!r} in {loc} declared twice")
            out[(name, loc)] = p
        return out

    # --- the document ------------------------------------------------------
    def run(self):
        doc = self.doc
        if not isinstance(doc, dict):
            self.problem("/", "the document is not an object")
            return
        self.check_refs(doc, [])
        ver = doc.get("openapi")
        if not isinstance(ver, str) or not re.match(r"^3\.0\.\d+$", ver):
            self.problem(["openapi"], f"expected a 3.0.x version string, got {ver!r}")
        info = doc.get("info")
        if not isinstance(info, dict):
            self.problem(["info"], "missing")
        else:
            for k in ("title", "version"):
                if not isinstance(info.get(k), str):
                    self.problem(["info", k], "missing or not a string")
        servers = doc.get("servers", [])
        if not isinstance(servers, list) or not all(isinstance(s, dict) and isinstance(s.get("url"), str)
                                                    for s in servers):
            self.problem(["servers"], "every server needs a url")

        comps = doc.get("components", {}) or {}
        schemes = comps.get("securitySchemes", {}) or {}
        for name, sch in schemes.items():
            sch = self.deref(sch, ["components", "securitySchemes", name])
            if not isinstance(sch, dict) or sch.get("type") not in ("apiKey", "http", "oauth2", "openIdConnect"):
                self.problem(["components", "securitySchemes", name], "missing or unknown type")
            elif sch["type"] == "http" and not isinstance(sch.get("scheme"), str):
                self.problem(["components", "securitySchemes", name], "http scheme without 'scheme'")
        self.check_security(doc.get("security"), ["security"], schemes)

        for name, schema in (comps.get("schemas", {}) or {}).items():
            self.check_schema(schema, ["components", "schemas", name])
        for name, param in (comps.get("parameters", {}) or {}).items():
            self.check_parameter(param, ["components", "parameters", name])
        for name, hdr in (comps.get("headers", {}) or {}).items():
            if isinstance(hdr, dict) and "schema" in hdr:
                self.check_schema(hdr["schema"], ["components", "headers", name, "schema"])
        for name, resp in (comps.get("responses", {}) or {}).items():
            self.check_response(resp, ["components", "responses", name], None)

        paths = doc.get("paths")
        if not isinstance(paths, dict):
            self.problem(["paths"], "missing or not an object")
            return
        op_ids = {}
        shapes = {}
        for path, item in paths.items():
            w = ["paths", path]
            if not isinstance(path, str) or not path.startswith("/"):
                self.problem(w, "path does not start with '/'")
                continue
            template = TEMPLATE_PARAM.findall(path)
            if len(set(template)) != len(template):
                self.problem(w, "a template parameter appears twice")
            if "{" in TEMPLATE_PARAM.sub("", path) or "}" in TEMPLATE_PARAM.sub("", path):
                self.problem(w, "unbalanced braces in the path template")
            shape = TEMPLATE_PARAM.sub("{}", path)
            if shape in shapes:
                self.problem(w, f"same template as {shapes[shape]} up to parameter names")
            shapes[shape] = path
            item = self.deref(item, w)
            if not isinstance(item, dict):
                self.problem(w, "path item is not an object")
                continue
            path_params = self.param_list(item.get("parameters"), w + ["parameters"])
            ops = [m for m in METHODS if m in item]
            if not ops:
                self.problem(w, "path has no operation")
            for key in item:
                if key not in METHODS and key not in ("parameters", "summary", "description", "servers", "$ref") \
                        and not str(key).startswith("x-"):
                    self.problem(w + [key], "unknown key in a path item")
            for method in ops:
                self.check_operation(item[method], w + [method], path, template, path_params, op_ids, schemes)

    def check_security(self, sec, where, schemes):
        if sec is None:
            return
        if not isinstance(sec, list):
            self.problem(where, "security is not a list")
            return
        for i, req in enumerate(sec):
            if not isinstance(req, dict):
                self.problem(where + [i], "security requirement is not an object")
                continue
            for name, scopes in req.items():
                if name not in schemes:
                    self.problem(where + [i, name], "names no declared security scheme")
                    continue
                sch = self.deref(schemes[name], ["components", "securitySchemes", name])
                if not isinstance(scopes, list):
                    self.problem(where + [i, name], "scopes must be a list")
                elif isinstance(sch, dict) and sch.get("type") in ("http", "apiKey") and scopes:
                    self.problem(where + [i, name], f"{sch['type']} schemes take no scopes (must be [])")

    def check_response(self, resp, where, code):
        r = self.deref(resp, where)
        if not isinstance(r, dict):
            return
        if not isinstance(r.get("description"), str):
            self.problem(where, "response without a description")
        if "content" in r:
            self.check_content(r["content"], list(where) + ["content"])
            if code is not None and code[0] in "45" and isinstance(r["content"], dict) \
                    and "application/problem+json" not in r["content"]:
                self.problem(where, "error response without application/problem+json")

    def check_operation(self, op, where, path, template, path_params, op_ids, schemes):
        self.operations += 1
        if not isinstance(op, dict):
            self.problem(where, "operation is not an object")
            return
        oid = op.get("operationId")
        if not isinstance(oid, str) or not oid:
            self.problem(where, "no operationId")
        else:
            if not OPERATION_ID.match(oid):
                self.problem(where, f"operationId {oid!r} is not camelCase")
            if oid in op_ids:
                self.problem(where, f"operationId {oid!r} also used by {op_ids[oid]}")
            op_ids[oid] = f"{where[-1].upper()} {path}"
        if not isinstance(op.get("summary"), str) or not op["summary"].strip():
            self.problem(where, "no summary")
        if not isinstance(op.get("description"), str) or not re.search(r"\bScope: \w+", op["description"]):
            self.problem(where, "description does not name the scope it needs ('Scope: read')")

        params = dict(path_params)
        params.update(self.param_list(op.get("parameters"), where + ["parameters"]))  # operation level overrides
        declared = {name for (name, loc) in params if loc == "path"}
        for name in template:
            if name not in declared:
                self.problem(where, f"template parameter {{{name}}} is not declared as an 'in: path' parameter")
        for name in sorted(declared - set(template)):
            self.problem(where, f"path parameter {name!r} is not in the template {path}")

        if "requestBody" in op:
            body = self.deref(op["requestBody"], where + ["requestBody"])
            if isinstance(body, dict):
                self.check_content(body.get("content"), where + ["requestBody", "content"])
            if where[-1] in ("get", "head", "delete"):
                self.problem(where, f"{where[-1].upper()} with a request body")

        self.check_security(op.get("security"), where + ["security"], schemes)

        responses = op.get("responses")
        if not isinstance(responses, dict) or not responses:
            self.problem(where, "no responses")
            return
        success = False
        for code, resp in responses.items():
            code_s = str(code)
            if not RESPONSE_CODE.match(code_s):
                self.problem(where + ["responses", code], f"invalid response code {code!r}")
                continue
            if code_s[0] == "2":
                success = True
            self.check_response(resp, where + ["responses", code_s], code_s)
        if not success:
            self.problem(where, "no 2xx response")


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    path = argv[1] if len(argv) == 2 else "docs/api/openapi.yaml"
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=UniqueKeyLoader)
    except OSError as e:
        print(f"{path}: {e.strerror}", file=sys.stderr)
        return 1
    except yaml.YAMLError as e:
        print(f"{path}: not valid YAML: {e}", file=sys.stderr)
        return 1
    checker = Checker(doc)
    checker.run()
    if checker.problems:
        for p in checker.problems:
            print(f"{path}: {p}")
        print(f"{path}: {len(checker.problems)} problems")
        return 1
    print(f"{path}: OK ({len(doc['paths'])} paths, {checker.operations} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
