// The text/event-stream format (Server-Sent Events) as the WHATWG HTML
// standard's "event stream interpretation" reads it, for a client that does
// not reconnect: lines end with LF, CRLF or CR; a line starting with ':' is
// a comment; "event" names the event, "data" lines are joined with '\n';
// a blank line dispatches the event if it has data. "id" and "retry" only
// serve reconnection and are ignored, as are unknown fields.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace corridor::ctl {

struct ServerEvent {
  std::string type;  // "message" when the server names none
  std::string data;
};

class EventStreamParser {
 public:
  // Returns false to stop reading the stream.
  using Dispatch = std::function<bool(const ServerEvent&)>;

  // Reads the next bytes of the stream, dispatching each event they
  // complete. Returns false as soon as dispatch does; the bytes after that
  // event are not read.
  bool feed(std::string_view bytes, const Dispatch& dispatch);

  // Bytes held for the line and the event not yet complete, for the caller
  // to bound.
  std::size_t pending() const { return line_.size() + data_.size(); }

 private:
  bool end_of_line(const Dispatch& dispatch);
  void field(std::string_view line);

  std::string line_;
  bool after_cr_ = false;  // an LF right after a CR ends no further line
  std::string type_;
  std::string data_;  // each data line followed by '\n'
};

}  // namespace corridor::ctl
