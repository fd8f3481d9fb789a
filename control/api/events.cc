#include "control/api/events.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/log/log.h"
#include "control/api/views.h"

namespace corridor::control::api {

namespace {

constexpr auto kKeepalive = std::chrono::seconds(15);
// Log lines waiting for the next flush; more are dropped and counted (a
// debug flood must not grow the daemon without bound).
constexpr std::size_t kMaxQueuedLogLines = 10000;

std::string record(std::string_view type, const nlohmann::json& data) {
  return "event: " + std::string(type) + "\ndata: " +
         data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace

std::optional<EventFilter> parse_event_filter(std::string_view types, std::string_view log_level, std::string* why) {
  EventFilter f;
  if (!types.empty()) {
    f = EventFilter{false, false, false, false, std::nullopt};
    bool log = false;
    std::size_t start = 0;
    while (start <= types.size()) {
      const auto end = std::min(types.find(',', start), types.size());
      const auto t = types.substr(start, end - start);
      start = end + 1;
      if (t == "ike-updown") f.ike_updown = true;
      else if (t == "child-updown") f.child_updown = true;
      else if (t == "ike-rekey") f.ike_rekey = true;
      else if (t == "child-rekey") f.child_rekey = true;
      else if (t == "log") log = true;
      else {
        *why = "unknown event type '" + std::string(t) +
               "' (ike-updown, child-updown, ike-rekey, child-rekey, log are)";
        return std::nullopt;
      }
    }
    if (log) f.log = config::LogLevel::info;
  }
  if (!log_level.empty()) {
    const auto level = parse_log_level(log_level);
    if (!level) {
      *why = "log_level must be one of error, warning, info, debug";
      return std::nullopt;
    }
    if (!f.log) {
      *why = "log_level needs 'log' in types";
      return std::nullopt;
    }
    f.log = level;
  }
  return f;
}

EventHub::EventHub() {
  // With the logger's lock held: queue only, never log.
  log::set_listener([this](log::Level level, std::string_view subsystem, std::string_view message) {
    if (!wants_log_) return;
    if (log_queue_.size() >= kMaxQueuedLogLines) {
      ++log_dropped_;
      return;
    }
    log_queue_.push_back({level, record("log", {{"level", std::string(config::to_string(level))},
                                                {"subsystem", std::string(subsystem)},
                                                {"message", std::string(message)}})});
  });
}

EventHub::~EventHub() { log::set_listener({}); }

void EventHub::subscribe(std::shared_ptr<StreamSink> sink, const EventFilter& filter, std::string token_id) {
  // A first line at once, so the client knows the stream is live.
  sink->send(": corridor events\n\n");
  subscribers_.push_back({std::move(sink), filter, std::move(token_id)});
  if (filter.log) wants_log_ = true;
}

void EventHub::send(bool EventFilter::*wants, const std::string& text) {
  for (auto& s : subscribers_)
    if (s.filter.*wants && s.sink) s.sink->send(text);
}

void EventHub::publish(const ikev2::SaEvent& e) {
  using Kind = ikev2::SaEvent::Kind;
  nlohmann::json data{{"id", e.ike_id}, {"ike_sa", e.ike_sa}, {"connection", e.connection}};
  switch (e.kind) {
    case Kind::ike_up:
    case Kind::ike_down:
      data["up"] = e.kind == Kind::ike_up;
      return send(&EventFilter::ike_updown, record("ike-updown", data));
    case Kind::ike_rekey:
      data["old_id"] = e.old_ike_id;
      return send(&EventFilter::ike_rekey, record("ike-rekey", data));
    case Kind::child_up:
    case Kind::child_down:
      data["up"] = e.kind == Kind::child_up;
      data["child"] = e.child;
      data["spi_in"] = spi_hex(e.spi_in);
      data["spi_out"] = spi_hex(e.spi_out);
      return send(&EventFilter::child_updown, record("child-updown", data));
    case Kind::child_rekey:
      data["child"] = e.child;
      data["spi_in"] = spi_hex(e.spi_in);
      data["spi_out"] = spi_hex(e.spi_out);
      data["old_spi_in"] = spi_hex(e.old_spi_in);
      return send(&EventFilter::child_rekey, record("child-rekey", data));
  }
}

void EventHub::close_revoked(const TokenStore& tokens) {
  for (auto& s : subscribers_) {
    if (!s.sink || !s.sink->open()) continue;
    const auto& entries = tokens.entries();
    if (std::any_of(entries.begin(), entries.end(), [&](const TokenEntry& t) { return t.id == s.token_id; }))
      continue;
    ++streams_revoked_;
    log::info("api", "event stream of token " + s.token_id + " closed: the token was revoked");
    s.sink->end(": closed: token " + s.token_id + " was revoked\n\n");
  }
}

void EventHub::flush(std::chrono::steady_clock::time_point now) {
  // Swapped out first: delivering may log (a stream closed), which queues
  // into the fresh deque rather than the one being walked.
  std::deque<LogLine> lines;
  lines.swap(log_queue_);
  for (const auto& line : lines)
    for (auto& s : subscribers_)
      if (s.filter.log && static_cast<int>(line.level) <= static_cast<int>(*s.filter.log) && s.sink)
        s.sink->send(line.text);
  if (now >= next_keepalive_) {
    next_keepalive_ = now + kKeepalive;
    for (auto& s : subscribers_)
      if (s.sink) s.sink->send(": keepalive\n\n");
  }
  std::erase_if(subscribers_, [](const Subscriber& s) { return !s.sink || !s.sink->open(); });
  wants_log_ = false;
  for (const auto& s : subscribers_)
    if (s.filter.log) wants_log_ = true;
}

}  // namespace corridor::control::api
