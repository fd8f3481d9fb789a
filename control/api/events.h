// The API's live events (GET /api/v1/events, Server-Sent Events): SA
// changes as the IKE manager reports them and, on request, log lines.
//
// Log lines come from the logger's listener, which runs with the logger's
// lock held and so may only queue; they are delivered on the next flush()
// (the API's 100 ms timer), as are keepalive comments. SA events are
// delivered at once. A subscriber whose client reads too slowly is closed
// by the HTTP server (ServerLimits::stream_backlog_bytes), never waited for.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"
#include "control/api/http_server.h"
#include "control/api/tokens.h"
#include "control/ikev2/manager.h"

namespace corridor::control::api {

struct EventFilter {
  bool ike_updown = true;
  bool child_updown = true;
  bool ike_rekey = true;
  bool child_rekey = true;
  std::optional<config::LogLevel> log;  // log lines at this level or more severe; nullopt: none
};

// "ike-updown,log" and a log level into a filter; nullopt with the reason
// for an unknown type or level.
std::optional<EventFilter> parse_event_filter(std::string_view types, std::string_view log_level, std::string* why);

class EventHub {
 public:
  EventHub();
  ~EventHub();  // detaches from the logger
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // `token_id`: the token the stream was opened with; the stream ends
  // when that token is revoked (close_revoked).
  void subscribe(std::shared_ptr<StreamSink> sink, const EventFilter& filter, std::string token_id);
  void publish(const ikev2::SaEvent& event);
  // Delivers queued log lines, sends keepalives, forgets closed streams.
  void flush(std::chrono::steady_clock::time_point now);

  // Ends the streams whose token is no longer in `tokens` (revoked with
  // corridorctl token revoke, or the token file replaced): a token is
  // checked when a stream opens, and a stream lasts, so this is how a
  // revocation reaches it. The client gets a last comment saying why.
  void close_revoked(const TokenStore& tokens);

  std::size_t subscribers() const { return subscribers_.size(); }
  std::uint64_t streams_revoked() const { return streams_revoked_; }
  std::uint64_t log_lines_dropped() const { return log_dropped_; }

 private:
  struct Subscriber {
    std::shared_ptr<StreamSink> sink;
    EventFilter filter;
    std::string token_id;
  };
  struct LogLine {
    config::LogLevel level;
    std::string text;  // the SSE record, ready to send
  };
  void send(bool EventFilter::*wants, const std::string& record);

  std::vector<Subscriber> subscribers_;
  std::deque<LogLine> log_queue_;
  std::uint64_t log_dropped_ = 0;
  std::uint64_t streams_revoked_ = 0;
  bool wants_log_ = false;  // any subscriber takes log lines
  std::chrono::steady_clock::time_point next_keepalive_{};
};

}  // namespace corridor::control::api
