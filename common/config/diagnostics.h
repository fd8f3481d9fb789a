// Config problems, each tied to the JSON pointer (RFC 6901) of the value at
// fault, so an operator (or the REST API's problem+json `errors[]`) can point
// at the exact spot: "/connections/site-b/children/lans/local_ts/1: not a
// CIDR: 10.1.0.0/33".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corridor::config {

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string pointer;  // JSON pointer; "" is the whole document
  std::string message;

  // "pointer: message", or just the message for the document root.
  std::string to_string() const;
};

class Diagnostics {
 public:
  void error(std::string pointer, std::string message);
  void warning(std::string pointer, std::string message);

  const std::vector<Diagnostic>& items() const { return items_; }
  std::size_t error_count() const;
  std::size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

 private:
  std::vector<Diagnostic> items_;
};

// Appends one reference token to a JSON pointer, escaping '~' and '/'.
std::string json_pointer_append(std::string_view pointer, std::string_view token);

}  // namespace corridor::config
