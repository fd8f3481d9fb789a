// The running configuration, its revisions, and the file a restart reads.
//
// A new config (PUT /config, a rollback, a connection edited through the
// API) goes through two steps: prepare() validates it exactly as
// `corridor-control --check` would, plus the rules of a live change, and
// says what it changes; apply() writes it to the config file
// (common/fs/atomic_file.h: a crash leaves the old file or the new one),
// has the daemon apply it (LiveApply), and records it as a revision. If a
// step fails, nothing changes: the file is written back, the running
// config and the SAs stay as they were.
//
// Revisions are kept in memory (the last kMaxRevisions) for the API's
// history and rollback; after a restart the history starts again with the
// file as it was last applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/diagnostics.h"
#include "common/config/model.h"

namespace corridor::control {

// What a new config changes against the running one. Connections compare
// by their whole written definition (key order aside).
struct ConfigChange {
  std::vector<std::string> added;
  std::vector<std::string> changed;
  std::vector<std::string> removed;
  std::vector<std::string> unchanged;
  bool secrets = false;    // the secrets section differs: new authentications use it
  bool log_level = false;  // logging.level differs: applied at once
  bool any() const { return !added.empty() || !changed.empty() || !removed.empty() || secrets || log_level; }
};

struct ConfigRevision {
  std::uint64_t id = 0;
  std::chrono::system_clock::time_point applied_at{};
  std::string source;  // "startup", "api" or "rollback"
  std::string actor;   // the API token id that applied it; empty at startup
  std::uint64_t restored = 0;  // rollback: the revision whose config it restored
  ConfigChange change;         // against the revision before it
  // As applied, secrets included: never shown whole (config::redact).
  nlohmann::ordered_json document;
};

class ConfigStore {
 public:
  static constexpr std::size_t kMaxRevisions = 32;

  // Applies a validated config to the running daemon (the IKE manager,
  // log levels); false with the reason in `why` if it could not, which
  // must leave the daemon as it was.
  using LiveApply = std::function<bool(const std::shared_ptr<const config::Config>& next, const ConfigChange& change,
                                       std::string* why)>;

  // `path`: the config file the daemon started from (revision 1), which
  // applied configs replace; relative file names in a new config are
  // resolved against its directory, as at start.
  ConfigStore(std::string path, nlohmann::ordered_json document, config::Config config);

  void set_live_apply(LiveApply apply) { live_apply_ = std::move(apply); }

  std::shared_ptr<const config::Config> config() const { return revisions_.back().config; }
  const nlohmann::ordered_json& document() const { return revisions_.back().info.document; }
  std::uint64_t revision() const { return revisions_.back().info.id; }
  const std::string& path() const { return path_; }
  // The directory of the config file: relative file names resolve here.
  const std::string& base_dir() const { return base_dir_; }

  struct Candidate {
    config::Diagnostics diagnostics;  // with an error, the candidate is refused
    nlohmann::ordered_json document;  // "<redacted>" values replaced by the running ones
    std::shared_ptr<const config::Config> config;  // set iff there is no error
    ConfigChange change;
    bool same = false;  // equal to the running config, key order aside: nothing to apply
    bool ok() const { return config != nullptr; }
  };
  // Validates `document` as the next config. Beyond --check's rules:
  // secret values written "<redacted>" stand for the running value at the
  // same place, and the sections corridor-control and corridor-dataplane
  // read only at start (dataplane, sa_channel, api, logging but its level)
  // must be as they are now.
  Candidate prepare(nlohmann::ordered_json document) const;

  // Writes, applies and records a prepared candidate; the new revision's
  // id, or 0 with the reason in `why` (nothing changed then).
  std::uint64_t apply(Candidate candidate, std::string source, std::string actor, std::uint64_t restored,
                      std::string* why);

  // Oldest first.
  std::vector<const ConfigRevision*> revisions() const;
  const ConfigRevision* find(std::uint64_t id) const;

 private:
  struct Entry {
    ConfigRevision info;
    std::shared_ptr<const config::Config> config;
  };
  std::string path_;
  std::string base_dir_;
  std::deque<Entry> revisions_;  // never empty
  LiveApply live_apply_;
};

// What `next` changes against `running`, both as written.
ConfigChange compare_configs(const nlohmann::ordered_json& running, const nlohmann::ordered_json& next);

}  // namespace corridor::control
