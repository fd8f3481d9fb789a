#include "control/daemon/config_store.h"

#include <filesystem>

#include "common/config/loader.h"
#include "common/config/redact.h"
#include "common/fs/atomic_file.h"
#include "common/log/log.h"

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
// dataplane and sa_channel, corridor-control its listeners and log sink.
constexpr const char* kStartOnly[] = {"dataplane", "sa_channel", "api"};

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
