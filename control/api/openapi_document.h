#pragma once

#include <string_view>

namespace corridor::control::api {

// The API's OpenAPI 3 document (docs/api/openapi.yaml) as compact JSON,
// served verbatim by GET /api/v1/openapi.json. Defined in openapi_document.cc,
// which control/api/openapi_embed.py generates at build time (the custom
// target openapi_document_cc); edit the YAML, never the generated file.
// Static storage, so the view is valid for the whole program.
extern const std::string_view kOpenApiJson;

}  // namespace corridor::control::api
