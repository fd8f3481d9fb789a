// Error-returning results for the SA channel.
//
// The channel sits between two processes that must keep running when the
// other one misbehaves, so nothing here throws across the API: every fallible
// call returns an Expected<T> (a value or an Error) or a Status (ok or an
// Error). An Error carries a machine-readable code and a sentence written for
// the operator: what is wrong and how to fix it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace corridor::channel {

enum class Errc : std::uint8_t {
  system_error,       // an OS call failed (errno text is in the message)
  not_found,          // segment does not exist and we were told not to create it
  timeout,            // segment exists but was never initialised in time
  bad_magic,          // not a Corridor segment
  bad_layout_version, // a Corridor segment of another layout version
  bad_geometry,       // size, record size, capacities or offsets inconsistent
  bad_indices,        // ring indices impossible for the ring's capacity
  bad_owner,          // segment owned by another user or readable by others
  side_busy,          // another live process is attached as the same side
  invalid_argument,   // caller passed something unusable (e.g. capacity 3)
};

std::string_view to_string(Errc code);

struct Error {
  Errc code = Errc::system_error;
  std::string message;
};

// A value of T or an Error. Deliberately small: the subset of C++23's
// std::expected the channel needs.
template <typename T, typename E = Error>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Ok, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status success() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace corridor::channel
