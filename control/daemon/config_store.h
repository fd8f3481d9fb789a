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
// The last kMaxRevisions revisions are kept for the API's history and
// rollback, in memory and, one file each, in a directory beside the
// config file (`<config file>.revisions/<id>.json`, mode 0600 in a 0700
// directory: they hold the secrets as the config file does). A restart
// reads them back (restore_history), so the history, its ids and a
// rollback to a revision from before the restart survive it. A config
// file edited by hand between two runs becomes a new "startup" revision.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
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

  // Reads the revisions an earlier run recorded (history_dir()) and
  // continues from them: the running config is the newest one if the file
  // still holds it, else a new "startup" revision after it; either way the
  // running revision is on disk afterwards. Files that cannot be read are
  // skipped with a warning; a directory that cannot be made leaves the
  // history in memory only (also warned). Called once, after logging is
  // set up; without it the history starts at revision 1 and is not kept.
  void restore_history();
  const std::string& history_dir() const { return history_dir_; }
  // Revision files that could not be written or read back (each warned).
  std::uint64_t history_errors() const { return history_errors_; }

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
  // read only at start (dataplane, sa_channel, api, ike, logging but its
  // level) must be as they are now.
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
  // Writes a revision's file and removes those of revisions no longer
  // kept; a failure is warned and counted, not an error of the change.
  void persist(const ConfigRevision& revision);
  std::string revision_file(std::uint64_t id) const;

  std::string path_;
  std::string base_dir_;
  std::string history_dir_;
  bool keep_history_ = false;  // restore_history() ran and the directory exists
  std::uint64_t history_errors_ = 0;
  std::deque<Entry> revisions_;  // never empty; those read back from disk have no config (only the newest's is used)
  LiveApply live_apply_;
};

// What `next` changes against `running`, both as written.
ConfigChange compare_configs(const nlohmann::ordered_json& running, const nlohmann::ordered_json& next);

}  // namespace corridor::control
