// Human output of API responses. Every field is read defensively: a field
// the server does not send (or sends as null) prints as "-", so an older or
// newer server never makes corridorctl fail to show what it has.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace corridor::ctl {

using Json = nlohmann::ordered_json;

// A scalar field as text: strings as they are, numbers and booleans in JSON
// notation, "-" if missing or null. Arrays of scalars are joined with ','.
std::string field(const Json& object, std::string_view key);

// IKE SAs and their Child SAs, in the layout of `swanctl --list-sas`.
void print_sas(std::ostream& out, const Json& items);

// One table row per connection: name, version, addresses, children.
void print_connections(std::ostream& out, const Json& items);

// One line for an event of GET /events: when it was received (UTC; the
// events carry no time), its type, what happened; the log line of a log
// event, laid out as the daemon's log file has it.
void print_event(std::ostream& out, std::chrono::system_clock::time_point received, std::string_view type,
                 const Json& data);

// "key.sub: value" lines, sorted by key.
void print_flat(std::ostream& out, const Json& value);

}  // namespace corridor::ctl
