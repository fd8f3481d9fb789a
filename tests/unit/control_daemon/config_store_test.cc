// ConfigStore: a new config is validated, compared, written to the config
// file atomically, applied, and kept as a revision; when any step fails,
// nothing changes. The revisions outlive a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/config/loader.h"
#include "common/config/redact.h"
#include "control/daemon/config_store.h"

namespace corridor::control {
namespace {

using Json = nlohmann::ordered_json;

const char* kConfig = R"({
  "connections": {
    "site-b": { "remote_addrs": ["198.51.100.2"],
                "local": { "auth": "psk", "id": "a.example.net" }, "remote": { "auth": "psk", "id": "b.example.net" },
                "children": { "lans": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"] } } },
    "site-c": { "remote_addrs": ["198.51.100.3"],
                "local": { "auth": "psk", "id": "a.example.net" }, "remote": { "auth": "psk", "id": "c.example.net" },
                "children": { "lans": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.3.0.0/16"] } } } },
  "secrets": { "ike-b": { "id": ["b.example.net"], "secret": "the first pre-shared key" } },
  "logging": { "level": "info" }
})";

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("corridor-config-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "corridor.json").string();
    std::ofstream(path_) << kConfig;
    ::chmod(path_.c_str(), 0640);
    auto loaded = config::load_config_file(path_);
    ASSERT_TRUE(loaded.ok());
    store_ = std::make_unique<ConfigStore>(path_, loaded.document, *loaded.config);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string file_text() const {
    std::ifstream in(path_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static Json running_redacted(const ConfigStore& s) { return config::redact(s.document()); }
  // The daemon as it starts again: the config file read anew, the history
  // read back.
  std::unique_ptr<ConfigStore> restart() const {
    auto loaded = config::load_config_file(path_);
    EXPECT_TRUE(loaded.ok());
    auto store = std::make_unique<ConfigStore>(path_, loaded.document, *loaded.config);
    store->restore_history();
    return store;
  }
  std::set<std::string> history_files() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(store_->history_dir()))
      names.insert(e.path().filename().string());
    return names;
  }
  static std::uint64_t apply_level(ConfigStore& store, const char* level, std::string source = "api",
                                   std::uint64_t restored = 0) {
    Json next = store.document();
    next["logging"]["level"] = level;
    std::string why;
    const auto id = store.apply(store.prepare(next), std::move(source), "ops-token", restored, &why);
    EXPECT_NE(id, 0u) << why;
    return id;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<ConfigStore> store_;
};

TEST_F(Store, StartsAtRevisionOneWithTheFileAsLoaded) {
  EXPECT_EQ(store_->revision(), 1u);
  ASSERT_EQ(store_->revisions().size(), 1u);
  EXPECT_EQ(store_->revisions()[0]->source, "startup");
  EXPECT_EQ(store_->config()->connections.size(), 2u);
}

TEST_F(Store, ComparesConnectionsByTheirWholeDefinitionNotKeyOrder) {
  Json next = store_->document();
  // Same members, other order: unchanged.
  Json reordered = Json::object();
  const auto& b = next["connections"]["site-b"];
  for (auto it = b.rbegin(); it != b.rend(); ++it) reordered[it.key()] = it.value();
  next["connections"]["site-b"] = reordered;
  next["connections"]["site-c"]["children"]["lans"]["remote_ts"] = Json::array({"10.3.0.0/24"});
  next["connections"]["site-d"] = next["connections"]["site-c"];
  next["connections"]["site-d"]["remote_addrs"] = Json::array({"198.51.100.4"});
  const auto c = compare_configs(store_->document(), next);
  EXPECT_EQ(c.unchanged, std::vector<std::string>{"site-b"});
  EXPECT_EQ(c.changed, std::vector<std::string>{"site-c"});
  EXPECT_EQ(c.added, std::vector<std::string>{"site-d"});
  EXPECT_TRUE(c.removed.empty());
  EXPECT_FALSE(c.secrets);

  next["connections"].erase("site-b");
  next["logging"]["level"] = "debug";
  const auto d = compare_configs(store_->document(), next);
  EXPECT_EQ(d.removed, std::vector<std::string>{"site-b"});
  EXPECT_TRUE(d.log_level);
}

TEST_F(Store, AppliesWritesAndRecordsARevision) {
  ConfigChange seen;
  std::size_t connections = 0;
  store_->set_live_apply([&](const std::shared_ptr<const config::Config>& next, const ConfigChange& change,
                             std::string*) {
    seen = change;
    connections = next->connections.size();
    return true;
  });
  // What an operator GETs (secrets redacted), edited and sent back.
  Json next = running_redacted(*store_);
  next["connections"].erase("site-c");
  auto candidate = store_->prepare(next);
  ASSERT_TRUE(candidate.ok());
  EXPECT_FALSE(candidate.same);
  std::string why;
  ASSERT_EQ(store_->apply(std::move(candidate), "api", "a1b2c3d4e5f6", 0, &why), 2u) << why;
  EXPECT_EQ(connections, 1u);
  EXPECT_EQ(seen.removed, std::vector<std::string>{"site-c"});
  EXPECT_EQ(seen.unchanged, std::vector<std::string>{"site-b"});

  // The file now holds the new config, with the real secret (not the
  // placeholder), keeps its mode, and loads as the running config would.
  const auto text = file_text();
  EXPECT_NE(text.find("the first pre-shared key"), std::string::npos);
  EXPECT_EQ(text.find("<redacted>"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  auto reloaded = config::load_config_file(path_);
  ASSERT_TRUE(reloaded.ok());
  ASSERT_EQ(reloaded.config->connections.size(), 1u);
  EXPECT_EQ(reloaded.config->connections[0].name, "site-b");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()), 1)
      << "no temporary file left";

  const auto revisions = store_->revisions();
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[1]->source, "api");
  EXPECT_EQ(revisions[1]->actor, "a1b2c3d4e5f6");
  EXPECT_EQ(store_->find(1)->document["connections"].size(), 2u);

  // Rolling back is applying revision 1's document again.
  auto back = store_->prepare(store_->find(1)->document);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.change.added, std::vector<std::string>{"site-c"});
  ASSERT_EQ(store_->apply(std::move(back), "rollback", "a1b2c3d4e5f6", 1, &why), 3u) << why;
  EXPECT_EQ(store_->find(3)->restored, 1u);
  EXPECT_EQ(store_->config()->connections.size(), 2u);
}

TEST_F(Store, InvalidConfigsAreRefusedWithEveryProblemAndChangeNothing) {
  const auto before = file_text();
  Json next = store_->document();
  next["connections"]["site-b"]["children"]["lans"]["local_ts"] = Json::array({"10.1.0.0/33"});
  next["connections"]["site-c"]["proposals"] = Json::array({"des-md5-modp768"});
  auto candidate = store_->prepare(next);
  EXPECT_FALSE(candidate.ok());
  std::set<std::string> pointers;
  for (const auto& d : candidate.diagnostics.items())
    if (d.severity == config::Severity::error) pointers.insert(d.pointer);
  EXPECT_TRUE(pointers.count("/connections/site-b/children/lans/local_ts/0")) << candidate.diagnostics.items().size();
  EXPECT_TRUE(pointers.count("/connections/site-c/proposals/0"));
  std::string why;
  EXPECT_EQ(store_->apply(std::move(candidate), "api", "", 0, &why), 0u);
  EXPECT_EQ(file_text(), before);
  EXPECT_EQ(store_->revision(), 1u);
}

TEST_F(Store, StartOnlySectionsAndNewRedactedSecretsAreRefused) {
  Json next = store_->document();
  next["sa_channel"] = Json{{"name", "/other"}};
  next["logging"]["file"] = "/var/log/corridor.log";
  next["ike"] = Json{{"retransmit_tries", 2}};
  auto candidate = store_->prepare(next);
  ASSERT_FALSE(candidate.ok());
  std::set<std::string> pointers;
  for (const auto& d : candidate.diagnostics.items()) pointers.insert(d.pointer);
  EXPECT_TRUE(pointers.count("/sa_channel"));
  EXPECT_TRUE(pointers.count("/logging"));
  EXPECT_TRUE(pointers.count("/ike"));

  // logging.level alone may change.
  next = store_->document();
  next["logging"]["level"] = "debug";
  candidate = store_->prepare(next);
  ASSERT_TRUE(candidate.ok());
  EXPECT_TRUE(candidate.change.log_level);

  // "<redacted>" stands for a running value; for a new secret there is none.
  next = store_->document();
  next["secrets"]["ike-c"] = Json{{"id", Json::array({"c.example.net"})}, {"secret", "<redacted>"}};
  candidate = store_->prepare(next);
  ASSERT_FALSE(candidate.ok());
  EXPECT_EQ(candidate.diagnostics.items().at(0).pointer, "/secrets/ike-c/secret");
}

TEST_F(Store, AFailedLiveApplyPutsTheFileBack) {
  const auto before = file_text();
  store_->set_live_apply([](const std::shared_ptr<const config::Config>&, const ConfigChange&, std::string* why) {
    *why = "IKE sockets: address in use";
    return false;
  });
  Json next = store_->document();
  next["connections"].erase("site-b");
  std::string why;
  EXPECT_EQ(store_->apply(store_->prepare(next), "api", "", 0, &why), 0u);
  EXPECT_EQ(why, "IKE sockets: address in use");
  EXPECT_EQ(config::load_config_text(file_text()).document, config::load_config_text(before).document);
  EXPECT_EQ(store_->revision(), 1u);
  EXPECT_EQ(store_->config()->connections.size(), 2u);
}

TEST_F(Store, AnUnwritableFileRefusesTheChange) {
  if (::geteuid() == 0) {
    // root writes anywhere: make the path a directory instead.
    std::filesystem::remove(path_);
    std::filesystem::create_directories(std::filesystem::path(path_) / "in-the-way");
  } else {
    ::chmod(dir_.c_str(), 0500);
  }
  bool applied = false;
  store_->set_live_apply([&](const std::shared_ptr<const config::Config>&, const ConfigChange&, std::string*) {
    applied = true;
    return true;
  });
  Json next = store_->document();
  next["connections"].erase("site-c");
  std::string why;
  EXPECT_EQ(store_->apply(store_->prepare(next), "api", "", 0, &why), 0u);
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(applied);
  EXPECT_EQ(store_->revision(), 1u);
  ::chmod(dir_.c_str(), 0700);
}

TEST_F(Store, KeepsTheLastRevisionsOnly) {
  std::string why;
  for (int i = 0; i < 40; ++i) {
    Json next = store_->document();
    next["logging"]["level"] = i % 2 ? "info" : "debug";
    ASSERT_NE(store_->apply(store_->prepare(next), "api", "", 0, &why), 0u) << why;
  }
  EXPECT_EQ(store_->revision(), 41u);
  EXPECT_EQ(store_->revisions().size(), ConfigStore::kMaxRevisions);
  EXPECT_EQ(store_->find(1), nullptr);
  EXPECT_NE(store_->find(41), nullptr);
}

TEST_F(Store, RevisionsOutliveARestartWithTheirIdsAndRecords) {
  store_->restore_history();
  EXPECT_EQ(store_->history_dir(), std::filesystem::absolute(path_).string() + ".revisions");
  EXPECT_EQ(history_files(), (std::set<std::string>{"1.json"}));
  struct stat st{};
  ASSERT_EQ(::stat(store_->history_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((store_->history_dir() + "/1.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a revision holds the secrets";

  EXPECT_EQ(apply_level(*store_, "debug"), 2u);
  Json next = store_->document();
  next["connections"].erase("site-c");
  std::string why;
  ASSERT_EQ(store_->apply(store_->prepare(next), "api", "ops-token", 0, &why), 3u) << why;
  EXPECT_EQ(history_files(), (std::set<std::string>{"1.json", "2.json", "3.json"}));
  const auto before = store_->revisions();

  auto again = restart();
  EXPECT_EQ(again->revision(), 3u) << "the file is revision 3: no new revision";
  EXPECT_EQ(again->history_errors(), 0u);
  ASSERT_EQ(again->revisions().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = *before[i];
    const auto& b = *again->revisions()[i];
    EXPECT_EQ(b.id, a.id);
    EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(b.applied_at),
              std::chrono::floor<std::chrono::seconds>(a.applied_at));
    EXPECT_EQ(b.source, a.source);
    EXPECT_EQ(b.actor, a.actor);
    EXPECT_EQ(b.change.added, a.change.added);
    EXPECT_EQ(b.change.removed, a.change.removed);
    EXPECT_EQ(b.change.unchanged, a.change.unchanged);
    EXPECT_EQ(b.change.log_level, a.change.log_level);
    EXPECT_EQ(b.document, a.document) << "secrets included";
  }
  EXPECT_EQ(again->config()->connections.size(), 1u);

  // A rollback to a revision from before the restart, then another restart.
  const auto* first = again->find(1);
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(again->apply(again->prepare(first->document), "rollback", "ops-token", 1, &why), 4u) << why;
  EXPECT_EQ(again->config()->connections.size(), 2u);
  auto third = restart();
  EXPECT_EQ(third->revision(), 4u);
  EXPECT_EQ(third->find(4)->source, "rollback");
  EXPECT_EQ(third->find(4)->restored, 1u);
  EXPECT_EQ(third->find(4)->change.added, (std::vector<std::string>{"site-c"}));
}

TEST_F(Store, AFileEditedBetweenRunsBecomesANewStartupRevision) {
  store_->restore_history();
  apply_level(*store_, "debug");
  Json edited = store_->document();
  edited["connections"]["site-b"]["remote_addrs"] = Json::array({"198.51.100.22"});
  std::ofstream(path_) << edited.dump(2);

  auto again = restart();
  EXPECT_EQ(again->revision(), 3u);
  const auto* r = again->find(3);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->source, "startup");
  EXPECT_TRUE(r->actor.empty());
  EXPECT_EQ(r->change.changed, (std::vector<std::string>{"site-b"}));
  EXPECT_EQ(r->change.unchanged, (std::vector<std::string>{"site-c"}));
  EXPECT_TRUE(std::filesystem::exists(again->history_dir() + "/3.json")) << "kept for the next restart";
  EXPECT_EQ(restart()->revision(), 3u);
}

TEST_F(Store, DamagedRevisionFilesAreSkippedAndCounted) {
  store_->restore_history();
  apply_level(*store_, "debug");
  const std::string dir = store_->history_dir();
  std::ofstream(dir + "/5.json") << "{ not json";
  {
    // A well-formed record under another id's name.
    std::ifstream in(dir + "/2.json");
    std::ostringstream text;
    text << in.rdbuf();
    std::ofstream(dir + "/6.json") << text.str();
  }
  std::ofstream(dir + "/7.json") << R"({"id": 7, "applied_at": "yesterday", "source": "api", "actor": "",
      "restored": 0, "change": {}, "config": {}})";
  std::ofstream(dir + "/notes.txt") << "not a revision: left alone";

  auto again = restart();
  EXPECT_EQ(again->history_errors(), 3u);
  EXPECT_EQ(again->revision(), 2u) << "the file is still revision 2";
  EXPECT_EQ(again->revisions().size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.txt"));
}

TEST_F(Store, OnlyTheKeptRevisionsHaveFiles) {
  store_->restore_history();
  for (int i = 0; i < 40; ++i) apply_level(*store_, i % 2 ? "info" : "debug");
  EXPECT_EQ(store_->revision(), 41u);
  const auto files = history_files();
  EXPECT_EQ(files.size(), ConfigStore::kMaxRevisions);
  EXPECT_EQ(files.count("41.json"), 1u);
  static_assert(ConfigStore::kMaxRevisions == 32, "revisions 10 to 41 are kept");
  EXPECT_EQ(files.count("9.json"), 0u);
  EXPECT_EQ(files.count("10.json"), 1u);
  auto again = restart();
  EXPECT_EQ(again->revisions().size(), ConfigStore::kMaxRevisions);
  EXPECT_EQ(again->revisions().front()->id, 10u);
}

TEST_F(Store, WithoutAHistoryDirectoryChangesStillApply) {
  std::ofstream(std::filesystem::absolute(path_).string() + ".revisions") << "a file in the way";
  store_->restore_history();
  EXPECT_EQ(store_->history_errors(), 1u);
  EXPECT_EQ(apply_level(*store_, "debug"), 2u);
  EXPECT_EQ(store_->history_errors(), 1u) << "nothing more is tried";
}

}  // namespace
}  // namespace corridor::control
