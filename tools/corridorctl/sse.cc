#include "tools/corridorctl/sse.h"

namespace corridor::ctl {

bool EventStreamParser::feed(std::string_view bytes, const Dispatch& dispatch) {
  for (const char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      if (!end_of_line(dispatch)) return false;
    } else {
      line_ += c;
    }
  }
  return true;
}

bool EventStreamParser::end_of_line(const Dispatch& dispatch) {
  if (!line_.empty()) {
    field(line_);
    line_.clear();
    return true;
  }
  // An event without data lines is dropped, its type with it.
  if (data_.empty()) {
    type_.clear();
    return true;
  }
  data_.pop_back();  // the '\n' after the last data line
  const ServerEvent event{type_.empty() ? "message" : type_, std::move(data_)};
  type_.clear();
  data_.clear();
  return dispatch(event);
}

void EventStreamParser::field(std::string_view line) {
  if (line.front() == ':') return;  // a comment
  const auto colon = line.find(':');
  const auto name = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (name == "event") {
    type_ = value;
  } else if (name == "data") {
    data_ += value;
    data_ += '\n';
  }
}

}  // namespace corridor::ctl
