#include "control/daemon/config_store.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "common/config/loader.h"
#include "common/config/redact.h"
#include "common/fs/atomic_file.h"
#include "common/log/log.h"
#include "common/time/utc_text.h"

namespace corridor::control {

namespace {

using Json = nlohmann::ordered_json;

// Key order does not make a different config: compare as sorted objects.
nlohmann::json canonical(const Json& value) { return nlohmann::json::parse(value.dump()); }

const Json& member(const Json& document, const char* key) {
  static const Json null_value;
  return document.is_object() && document.contains(key) ? document[key] : null_value;
}

// Sections read only when a process starts: corridor-dataplane reads
// dataplane and sa_channel, corridor-control its listeners, log sink and
// IKE retransmission settings.
constexpr const char* kStartOnly[] = {"dataplane", "sa_channel", "api", "ike"};

// --- The history on disk ---------------------------------------------
// One file per revision: its record (what the API shows of it) and the
// config as applied.

Json names_json(const std::vector<std::string>& names) {
  Json out = Json::array();
  for (const auto& n : names) out.push_back(n);
  return out;
}

Json record_of(const ConfigRevision& r) {
  const auto& c = r.change;
  return {{"id", r.id},
          {"applied_at", timefmt::utc_text(r.applied_at)},
          {"source", r.source},
          {"actor", r.actor},
          {"restored", r.restored},
          {"change",
           {{"added", names_json(c.added)},
            {"changed", names_json(c.changed)},
            {"removed", names_json(c.removed)},
            {"unchanged", names_json(c.unchanged)},
            {"secrets", c.secrets},
            {"log_level", c.log_level}}},
          {"config", r.document}};
}

bool names_from(const Json& value, std::vector<std::string>* out) {
  if (!value.is_array()) return false;
  for (const auto& n : value) {
    if (!n.is_string()) return false;
    out->push_back(n.get<std::string>());
  }
  return true;
}

// The record back; nullopt with the reason if a member is missing or of
// the wrong type (a file from another version, or damaged).
std::optional<ConfigRevision> revision_from(const Json& record, std::string* why) {
  ConfigRevision r;
  const auto has = [&](const char* key, Json::value_t type) {
    if (record.contains(key) && record[key].type() == type) return true;
    *why = std::string("\"") + key + "\" is missing or of the wrong type";
    return false;
  };
  using T = Json::value_t;
  if (!record.is_object()) {
    *why = "not a JSON object";
    return std::nullopt;
  }
  if (!has("id", T::number_unsigned) || !has("applied_at", T::string) || !has("source", T::string) ||
      !has("actor", T::string) || !has("restored", T::number_unsigned) || !has("change", T::object) ||
      !has("config", T::object))
    return std::nullopt;
  r.id = record["id"].get<std::uint64_t>();
  const auto at = timefmt::parse_utc_text(record["applied_at"].get_ref<const std::string&>());
  if (!at || r.id == 0) {
    *why = !at ? "applied_at is not a UTC time" : "id 0";
    return std::nullopt;
  }
  r.applied_at = *at;
  r.source = record["source"].get<std::string>();
  r.actor = record["actor"].get<std::string>();
  r.restored = record["restored"].get<std::uint64_t>();
  const Json& c = record["change"];
  if (!c.contains("added") || !names_from(c["added"], &r.change.added) || !c.contains("changed") ||
      !names_from(c["changed"], &r.change.changed) || !c.contains("removed") ||
      !names_from(c["removed"], &r.change.removed) || !c.contains("unchanged") ||
      !names_from(c["unchanged"], &r.change.unchanged) || !c.contains("secrets") || !c["secrets"].is_boolean() ||
      !c.contains("log_level") || !c["log_level"].is_boolean()) {
    *why = "\"change\" is malformed";
    return std::nullopt;
  }
  r.change.secrets = c["secrets"].get<bool>();
  r.change.log_level = c["log_level"].get<bool>();
  r.document = record["config"];
  return r;
}

// "<digits>.json": a revision file's name; its id.
std::optional<std::uint64_t> revision_id_of(const std::string& name) {
  constexpr std::string_view kSuffix = ".json";
  if (name.size() <= kSuffix.size() || name.size() > 19 + kSuffix.size() ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
    return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 0; i + kSuffix.size() < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return id;
}

}  // namespace

ConfigChange compare_configs(const Json& running, const Json& next) {
  ConfigChange change;
  const Json& old_conns = member(running, "connections");
  const Json& new_conns = member(next, "connections");
  if (new_conns.is_object())
    for (auto it = new_conns.begin(); it != new_conns.end(); ++it) {
      if (!old_conns.is_object() || !old_conns.contains(it.key())) change.added.push_back(it.key());
      else if (canonical(old_conns[it.key()]) != canonical(it.value())) change.changed.push_back(it.key());
      else change.unchanged.push_back(it.key());
    }
  if (old_conns.is_object())
    for (auto it = old_conns.begin(); it != old_conns.end(); ++it)
      if (!new_conns.is_object() || !new_conns.contains(it.key())) change.removed.push_back(it.key());
  change.secrets = canonical(member(running, "secrets")) != canonical(member(next, "secrets"));
  change.log_level = canonical(member(member(running, "logging"), "level")) !=
                     canonical(member(member(next, "logging"), "level"));
  return change;
}

ConfigStore::ConfigStore(std::string path, nlohmann::ordered_json document, config::Config config)
    : path_(std::move(path)) {
  base_dir_ = std::filesystem::absolute(path_).parent_path().string();
  history_dir_ = std::filesystem::absolute(path_).string() + ".revisions";
  Entry first;
  first.info.id = 1;
  first.info.applied_at = std::chrono::system_clock::now();
  first.info.source = "startup";
  first.info.change.added.reserve(config.connections.size());
  for (const auto& c : config.connections) first.info.change.added.push_back(c.name);
  first.info.document = std::move(document);
  first.config = std::make_shared<const config::Config>(std::move(config));
  revisions_.push_back(std::move(first));
}

std::string ConfigStore::revision_file(std::uint64_t id) const {
  return history_dir_ + "/" + std::to_string(id) + ".json";
}

void ConfigStore::restore_history() {
  std::error_code ec;
  std::filesystem::create_directories(history_dir_, ec);
  if (ec || ::chmod(history_dir_.c_str(), 0700) != 0) {
    ++history_errors_;
    log::warning("config", "config revisions are kept in memory only: " + history_dir_ + ": " +
                               (ec ? ec.message() : std::string(std::strerror(errno))));
    return;
  }
  keep_history_ = true;

  // Every readable revision file, oldest first.
  std::vector<ConfigRevision> found;
  for (const auto& entry : std::filesystem::directory_iterator(history_dir_, ec)) {
    const auto name = entry.path().filename().string();
    const auto id = revision_id_of(name);
    if (!id) continue;  // our temporary files and anything else
    std::ifstream in(entry.path());
    std::ostringstream text;
    text << in.rdbuf();
    std::string why;
    auto record = Json::parse(text.str(), nullptr, false);
    auto revision = record.is_discarded() ? std::nullopt : revision_from(record, &why);
    if (record.is_discarded()) why = "not JSON";
    if (revision && revision->id != *id) {
      why = "it holds revision " + std::to_string(revision->id);
      revision.reset();
    }
    if (!revision) {
      ++history_errors_;
      log::warning("config", "config revision file " + entry.path().string() + " skipped: " + why);
      continue;
    }
    found.push_back(std::move(*revision));
  }
  if (ec) {
    ++history_errors_;
    log::warning("config", "reading " + history_dir_ + ": " + ec.message());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (found.size() > kMaxRevisions) found.erase(found.begin(), found.end() - kMaxRevisions);

  Entry current = std::move(revisions_.back());
  revisions_.clear();
  for (auto& r : found) revisions_.push_back(Entry{std::move(r), nullptr});
  if (!revisions_.empty() && canonical(revisions_.back().info.document) == canonical(current.info.document)) {
    // The file is the config last applied: that revision runs again.
    revisions_.back().config = std::move(current.config);
    log::info("config", "running config revision " + std::to_string(revision()) + " (" +
                            std::to_string(revisions_.size()) + " revisions kept in " + history_dir_ + ")");
    return;
  }
  if (!revisions_.empty()) {
    current.info.id = revision() + 1;
    current.info.change = compare_configs(revisions_.back().info.document, current.info.document);
    log::info("config", path_ + " differs from config revision " + std::to_string(revision()) +
                            ", the last applied: it runs as revision " + std::to_string(current.info.id));
  }
  revisions_.push_back(std::move(current));
  while (revisions_.size() > kMaxRevisions) revisions_.pop_front();
  persist(revisions_.back().info);
}

void ConfigStore::persist(const ConfigRevision& revision) {
  if (!keep_history_) return;
  std::string why;
  if (!fs::write_file_atomic(revision_file(revision.id), record_of(revision).dump(1) + "\n", &why, 0600)) {
    ++history_errors_;
    log::warning("config", "config revision " + std::to_string(revision.id) +
                               " is applied but not kept for a restart: " + why);
  }
  // Revisions no longer kept: their files go too.
  const std::uint64_t oldest = revisions_.front().info.id;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(history_dir_, ec)) {
    const auto id = revision_id_of(entry.path().filename().string());
    if (id && *id < oldest) std::filesystem::remove(entry.path(), ec);
  }
}

ConfigStore::Candidate ConfigStore::prepare(nlohmann::ordered_json document) const {
  Candidate out;
  if (!document.is_object()) {
    out.diagnostics.error("", "the config must be a JSON object");
    return out;
  }
  const Json& running = this->document();
  config::restore_redacted(document, running, out.diagnostics);
  if (out.diagnostics.has_errors()) return out;

  for (const char* key : kStartOnly)
    if (canonical(member(running, key)) != canonical(member(document, key)))
      out.diagnostics.error(std::string("/") + key, std::string("the ") + key +
                                                        " section is read only at start: change it in the file "
                                                        "and restart (the running daemon keeps the current one)");
  Json old_logging = member(running, "logging"), new_logging = member(document, "logging");
  if (old_logging.is_object()) old_logging.erase("level");
  if (new_logging.is_object()) new_logging.erase("level");
  if (old_logging.is_object() && old_logging.empty()) old_logging = nullptr;
  if (new_logging.is_object() && new_logging.empty()) new_logging = nullptr;
  if (canonical(old_logging) != canonical(new_logging))
    out.diagnostics.error("/logging", "only logging.level changes while running: log file and format are read at "
                                      "start");

  config::LoadOptions options;
  options.base_dir = base_dir_;
  auto loaded = config::load_config(document, options);
  for (const auto& d : loaded.diagnostics.items()) {
    if (d.severity == config::Severity::error) out.diagnostics.error(d.pointer, d.message);
    else out.diagnostics.warning(d.pointer, d.message);
  }
  if (out.diagnostics.has_errors()) return out;
  out.change = compare_configs(running, document);
  out.same = canonical(running) == canonical(document);
  out.config = std::make_shared<const config::Config>(std::move(*loaded.config));
  out.document = std::move(document);
  return out;
}

std::uint64_t ConfigStore::apply(Candidate candidate, std::string source, std::string actor, std::uint64_t restored,
                                 std::string* why) {
  if (!candidate.ok()) {
    *why = "the config has errors";
    return 0;
  }
  const auto previous = config();
  const Json previous_document = document();
  if (!fs::write_file_atomic(path_, candidate.document.dump(2) + "\n", why)) {
    log::error("config", "new config not applied: " + *why);
    return 0;
  }
  if (live_apply_ && !live_apply_(candidate.config, candidate.change, why)) {
    log::error("config", "new config not applied: " + *why);
    std::string again;
    if (!fs::write_file_atomic(path_, previous_document.dump(2) + "\n", &again))
      log::error("config", "and the previous config could not be written back: " + again + "; " + path_ +
                               " now holds a config the daemon does not run");
    return 0;
  }
  Entry e;
  e.info.id = revision() + 1;
  e.info.applied_at = std::chrono::system_clock::now();
  e.info.source = std::move(source);
  e.info.actor = std::move(actor);
  e.info.restored = restored;
  e.info.change = std::move(candidate.change);
  e.info.document = std::move(candidate.document);
  e.config = std::move(candidate.config);
  const auto& c = e.info.change;
  log::info("config", "revision " + std::to_string(e.info.id) + " applied (" + e.info.source +
                          (e.info.actor.empty() ? "" : " by token " + e.info.actor) + "): " +
                          std::to_string(c.added.size()) + " connections added, " + std::to_string(c.changed.size()) +
                          " changed, " + std::to_string(c.removed.size()) + " removed, " +
                          std::to_string(c.unchanged.size()) + " unchanged" + (c.secrets ? ", secrets changed" : "") +
                          "; written to " + path_);
  revisions_.push_back(std::move(e));
  while (revisions_.size() > kMaxRevisions) revisions_.pop_front();
  persist(revisions_.back().info);
  return revision();
}

std::vector<const ConfigRevision*> ConfigStore::revisions() const {
  std::vector<const ConfigRevision*> out;
  out.reserve(revisions_.size());
  for (const auto& e : revisions_) out.push_back(&e.info);
  return out;
}

const ConfigRevision* ConfigStore::find(std::uint64_t id) const {
  for (const auto& e : revisions_)
    if (e.info.id == id) return &e.info;
  return nullptr;
}

}  // namespace corridor::control
