// The commands that talk to the API: each maps to the requests of
// docs/api.md. An error status prints the problem document to stderr and
// ends the command with exit code 1 (4 for 401/403).
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include <boost/beast/http/status.hpp>

#include "tools/corridorctl/cli.h"
#include "tools/corridorctl/render.h"

namespace corridor::ctl {

namespace {

namespace http = boost::beast::http;

constexpr const char* kApi = "/api/v1";
// The API's largest page (docs/api.md: limit 1-1000): fewest round trips.
constexpr const char* kPageLimit = "1000";

[[noreturn]] void fail(const std::string& message, int code = kExitApiError) {
  std::cerr << "corridorctl: " << message << '\n';
  throw Failed{code};
}

// RFC 9457: "title: detail", then one line per errors[] entry. Anything else
// (a proxy's HTML page) is summarised by its status line.
void report_problem(const Response& response, const Context& ctx) {
  const Json doc = Json::parse(response.body, nullptr, false);
  if (doc.is_object() && doc.contains("title")) {
    std::cerr << field(doc, "title");
    if (const auto detail = field(doc, "detail"); detail != "-") std::cerr << ": " << detail;
    std::cerr << '\n';
    if (const auto it = doc.find("errors"); it != doc.end() && it->is_array())
      for (const auto& e : *it) std::cerr << "  " << field(e, "pointer") << ": " << field(e, "detail") << '\n';
  } else {
    std::cerr << "HTTP " << response.status << ' ' << http::obsolete_reason(static_cast<http::status>(response.status))
              << '\n';
  }
  if (response.status == 401 && ctx.client->settings().token.empty())
    std::cerr << "corridorctl: no token given: use --token, --token-file, CORRIDOR_TOKEN or \"token\" in "
                 "~/.config/corridor/corridorctl.json\n";
}

// An error status: reported, and thrown as Failed.
[[noreturn]] void refused(const Response& response, const Context& ctx) {
  report_problem(response, ctx);
  throw Failed{response.status == 401 || response.status == 403 ? kExitRefused : kExitApiError};
}

// One request. Returns the response's JSON (null for an empty body); an error
// status is reported and thrown as Failed.
Json call(Context& ctx, http::verb method, const std::string& path, const std::optional<Json>& body = std::nullopt,
          bool authenticate = true) {
  const auto response = ctx.client->request(method, std::string(kApi) + path,
                                            body ? std::optional<std::string>(body->dump()) : std::nullopt, authenticate);
  if (response.status < 200 || response.status >= 300) refused(response, ctx);
  if (response.body.empty()) return Json();
  Json doc = Json::parse(response.body, nullptr, false);
  if (doc.is_discarded()) fail(std::string(http::to_string(method)) + " " + path + ": the response is not JSON");
  return doc;
}

// Every item of a paged list: follows next_cursor to the end.
Json fetch_all(Context& ctx, const std::string& path, const std::string& query = "") {
  Json items = Json::array();
  std::set<std::string> seen;
  std::string cursor;
  do {
    std::string target = path + "?limit=" + kPageLimit + query;
    if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
    const Json page = call(ctx, http::verb::get, target);
    const auto it = page.is_object() ? page.find("items") : page.end();
    if (it == page.end() || !it->is_array()) fail("GET " + path + ": the response has no items list");
    for (const auto& item : *it) items.push_back(item);
    const auto next = page.find("next_cursor");
    cursor = next != page.end() && next->is_string() ? next->get<std::string>() : "";
    // A server that hands out a cursor twice would otherwise page forever.
    if (!cursor.empty() && !seen.insert(cursor).second) fail("GET " + path + ": the server repeated a page cursor");
  } while (!cursor.empty());
  return Json{{"items", std::move(items)}, {"next_cursor", nullptr}};
}

void print_json(const Json& doc) { std::cout << doc.dump(2) << '\n'; }

// The output of an action (initiate, terminate, rekey): the response's JSON
// for scripts, one line saying what was asked for people.
int accepted(const Context& ctx, const Json& response, const std::string& what) {
  if (ctx.args.json) {
    if (!response.is_null()) print_json(response);
  } else {
    std::cout << what << ": accepted";
    if (const auto detail = field(response, "detail"); detail != "-") std::cout << " (" << detail << ")";
    std::cout << '\n';
  }
  return kExitOk;
}

// The connection that has a child of this name; it must be unique.
std::string connection_of_child(Context& ctx, const std::string& child) {
  const Json all = fetch_all(ctx, "/connections");
  std::vector<std::string> found;
  for (const auto& c : all["items"]) {
    const auto children = c.is_object() ? c.find("children") : c.end();
    if (children == c.end() || !children->is_array()) continue;
    for (const auto& ch : *children)
      if (field(ch, "name") == child) found.push_back(field(c, "name"));
  }
  if (found.empty()) fail("no connection has a child '" + child + "'");
  if (found.size() > 1) {
    std::string names;
    for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("child '" + child + "' is in several connections (" + names + "): give --ike CONNECTION");
  }
  return found[0];
}

// An IKE SA as the API names it, its number; "site-a[3]" (the name
// list-sas prints) is accepted too.
std::string ike_sa_id(const std::string& text) {
  const auto open = text.rfind('[');
  if (open == std::string::npos || !text.ends_with(']')) return text;
  return text.substr(open + 1, text.size() - open - 2);
}

// A positive count of an option.
std::uint64_t count_of(const std::string& option, const std::string& text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0)
    throw UsageError(option + " must be a positive number, not '" + text + "'");
  return n;
}

std::string child_path(const std::string& connection, const std::string& child, const std::string& action) {
  return "/connections/" + url_encode(connection) + "/children/" + url_encode(child) + "/" + action;
}

}  // namespace

int cmd_health(Context& ctx) {
  const auto doc = call(ctx, http::verb::get, "/health", std::nullopt, false);
  ctx.args.json ? print_json(doc) : print_flat(std::cout, doc);
  return kExitOk;
}

int cmd_list_sas(Context& ctx) {
  std::string query;
  for (const auto* name : {"connection", "state"})
    if (const auto* value = ctx.args.option(std::string("--") + name)) query += std::string("&") + name + "=" + url_encode(*value);
  const auto all = fetch_all(ctx, "/sas", query);
  ctx.args.json ? print_json(all) : print_sas(std::cout, all["items"]);
  return kExitOk;
}

int cmd_list_conns(Context& ctx) {
  const auto all = fetch_all(ctx, "/connections");
  ctx.args.json ? print_json(all) : print_connections(std::cout, all["items"]);
  return kExitOk;
}

int cmd_initiate(Context& ctx) {
  const auto& child = ctx.args.require("--child");
  const auto* ike = ctx.args.option("--ike");
  const auto connection = ike ? *ike : connection_of_child(ctx, child);
  const auto response = call(ctx, http::verb::post, child_path(connection, child, "initiate"));
  return accepted(ctx, response, "initiate child '" + child + "' of connection '" + connection + "'");
}

int cmd_terminate(Context& ctx) {
  const auto* ike = ctx.args.option("--ike");
  if (const auto* child = ctx.args.option("--child")) {
    const auto connection = ike ? *ike : connection_of_child(ctx, *child);
    const auto response = call(ctx, http::verb::post, child_path(connection, *child, "terminate"));
    return accepted(ctx, response, "terminate child '" + *child + "' of connection '" + connection + "'");
  }
  if (!ike) throw UsageError("terminate needs --ike ID or --child NAME");
  const auto response = call(ctx, http::verb::delete_, "/sas/" + url_encode(ike_sa_id(*ike)));
  return accepted(ctx, response, "terminate IKE SA " + *ike);
}

int cmd_rekey(Context& ctx) {
  const auto ike = ike_sa_id(ctx.args.require("--ike"));
  if (const auto* spi = ctx.args.option("--child")) {
    const auto response =
        call(ctx, http::verb::post, "/sas/" + url_encode(ike) + "/children/" + url_encode(*spi) + "/rekey");
    return accepted(ctx, response, "rekey Child SA " + *spi + " of IKE SA " + ike);
  }
  const auto response = call(ctx, http::verb::post, "/sas/" + url_encode(ike) + "/rekey");
  return accepted(ctx, response, "rekey IKE SA " + ike);
}

int cmd_stats(Context& ctx) {
  const auto doc = call(ctx, http::verb::get, "/stats");
  ctx.args.json ? print_json(doc) : print_flat(std::cout, doc);
  return kExitOk;
}

int cmd_log(Context& ctx) {
  const auto* level = ctx.args.option("--level");
  const auto* subsystem = ctx.args.option("--subsystem");
  Json doc;
  if (!level) {
    if (subsystem) throw UsageError("--subsystem needs --level");
    doc = call(ctx, http::verb::get, "/logging");
  } else if (subsystem) {
    // "default" is the CLI's spelling of the API's null: drop the override.
    const Json value = *level == "default" ? Json(nullptr) : Json(*level);
    doc = call(ctx, http::verb::patch, "/logging", Json{{"subsystems", Json{{*subsystem, value}}}});
  } else {
    doc = call(ctx, http::verb::patch, "/logging", Json{{"level", *level}});
  }
  if (!doc.is_null())
    ctx.args.json ? print_json(doc) : print_flat(std::cout, doc);
  else if (!ctx.args.json)
    std::cout << "logging: updated\n";
  return kExitOk;
}

// swanctl --monitor-sa (vici's event listening): the daemon's events as they
// come, one line each, until --count of them have come. The server decides
// which types and log levels there are; a stream it ends is exit code 3.
int cmd_events(Context& ctx) {
  const auto* count_option = ctx.args.option("--count");
  const std::uint64_t count = count_option ? count_of("--count", *count_option) : 0;
  std::string query;
  for (const auto& [option, parameter] : {std::pair{"--types", "types"}, {"--log-level", "log_level"}})
    if (const auto* value = ctx.args.option(option))
      query += (query.empty() ? "?" : "&") + std::string(parameter) + "=" + url_encode(*value);
  std::uint64_t seen = 0;
  const auto answer = ctx.client->stream(std::string(kApi) + "/events" + query, [&](const ServerEvent& event) {
    Json data = Json::parse(event.data, nullptr, false);
    if (data.is_discarded()) data = event.data;
    if (ctx.args.json)
      std::cout << Json{{"event", event.type}, {"data", data}}.dump(-1, ' ', false, Json::error_handler_t::replace)
                << '\n';
    else
      print_event(std::cout, std::chrono::system_clock::now(), event.type, data);
    std::cout.flush();  // at once, for whoever reads a pipe
    return ++seen != count;
  });
  if (answer) {
    if (answer->status < 200 || answer->status >= 300) refused(*answer, ctx);
    fail("GET /events: the response is not an event stream");
  }
  if (count != 0 && seen == count) return kExitOk;
  fail("the event stream ended", kExitUnreachable);
}

// swanctl --load-conns: the connections of FILE replace the running ones
// (added, changed and removed as PUT /config applies them: the SAs of
// unchanged connections stay up); the rest of the running config stays as
// it is. FILE is a Corridor config, or any JSON object with "connections".
int cmd_load_conns(Context& ctx) {
  const auto& path = ctx.args.operands[0];
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path + ": " + std::strerror(errno));
  const Json file = Json::parse(in, nullptr, false);
  if (file.is_discarded() || !file.is_object())
    fail(path + " is not a JSON object (corridorctl check " + path + " shows where)", kExitInvalidConfig);
  const auto conns = file.find("connections");
  if (conns == file.end() || !conns->is_object()) fail(path + " has no \"connections\" object", kExitInvalidConfig);
  // The running config as GET shows it: secrets stay "<redacted>", which
  // the daemon reads as "keep the running value".
  Json config = call(ctx, http::verb::get, "/config");
  if (!config.is_object()) fail("GET /config: not a JSON object");
  config["connections"] = *conns;
  const Json result = call(ctx, http::verb::put, ctx.args.dry_run ? "/config?dry_run=true" : "/config", config);
  if (ctx.args.json) {
    print_json(result);
    return kExitOk;
  }
  auto names = [&](const char* key) {
    std::string out;
    const auto& changes = result.contains("changes") ? result["changes"] : Json::object();
    if (changes.contains(key) && changes[key].is_array())
      for (const auto& n : changes[key]) out += (out.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : "?");
    return out.empty() ? std::string("none") : out;
  };
  const bool applied = result.value("applied", false);
  std::cout << (ctx.args.dry_run ? "dry run, nothing applied" : applied ? "applied as config revision " + field(result, "revision")
                                                                        : "the running connections are these already")
            << "\n  added: " << names("added") << "\n  changed (their SAs are renegotiated): " << names("changed")
            << "\n  removed (their SAs are closed): " << names("removed") << "\n  unchanged: " << names("unchanged") << '\n';
  if (const auto it = result.find("warnings"); it != result.end() && it->is_array())
    for (const auto& w : *it) std::cout << "  warning: " << field(w, "pointer") << ": " << field(w, "detail") << '\n';
  return kExitOk;
}

}  // namespace corridor::ctl
