// The event hub behind GET /events: what each stream receives by its
// filter, and streams ended when the token that opened them is revoked.
// The sink records what the HTTP server would have written.
#include "control/api/events.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace corridor::control::api {
namespace {

class RecordingSink final : public StreamSink {
 public:
  bool send(std::string bytes) override {
    if (!open_) return false;
    sent += bytes;
    return true;
  }
  bool open() const override { return open_; }
  void end(std::string last) override {
    if (!open_) return;
    sent += last;
    open_ = false;
    ++ends;
  }
  void drop() { open_ = false; }  // the client went away

  std::string sent;
  int ends = 0;

 private:
  bool open_ = true;
};

ikev2::SaEvent ike_up(std::uint64_t id) {
  ikev2::SaEvent e;
  e.kind = ikev2::SaEvent::Kind::ike_up;
  e.ike_id = id;
  e.connection = "site-b";
  e.ike_sa = "site-b[" + std::to_string(id) + "]";
  return e;
}

class Events : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("corridor-events-" + std::to_string(::getpid()))).string();
    std::string why;
    ASSERT_TRUE(create_token(path_, Scope::read, "kept", &why, &kept_id_)) << why;
    ASSERT_TRUE(create_token(path_, Scope::admin, "doomed", &why, &doomed_id_)) << why;
    auto store = TokenStore::load(path_, &why);
    ASSERT_TRUE(store) << why;
    tokens_.emplace(std::move(*store));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void revoke(const std::string& id) {
    std::string why;
    ASSERT_TRUE(revoke_token(path_, id, &why)) << why;
    ASSERT_TRUE(tokens_->refresh(&why)) << why;
  }

  std::string path_;
  std::string kept_id_, doomed_id_;
  std::optional<TokenStore> tokens_;
  EventHub hub_;
};

TEST_F(Events, AStreamStartsWithACommentAndGetsTheEventsItAskedFor) {
  auto all = std::make_shared<RecordingSink>();
  auto rekeys_only = std::make_shared<RecordingSink>();
  EventFilter only_rekeys;
  only_rekeys.ike_updown = only_rekeys.child_updown = false;
  hub_.subscribe(all, EventFilter{}, kept_id_);
  hub_.subscribe(rekeys_only, only_rekeys, kept_id_);
  EXPECT_EQ(all->sent, ": corridor events\n\n");
  hub_.publish(ike_up(7));
  EXPECT_NE(all->sent.find("event: ike-updown\ndata: {"), std::string::npos) << all->sent;
  EXPECT_NE(all->sent.find("\"id\":7"), std::string::npos);
  EXPECT_EQ(rekeys_only->sent, ": corridor events\n\n");
}

TEST_F(Events, RevokingATokenEndsItsStreamsOnlyWithAReason) {
  auto kept = std::make_shared<RecordingSink>();
  auto doomed1 = std::make_shared<RecordingSink>();
  auto doomed2 = std::make_shared<RecordingSink>();
  hub_.subscribe(kept, EventFilter{}, kept_id_);
  hub_.subscribe(doomed1, EventFilter{}, doomed_id_);
  hub_.subscribe(doomed2, EventFilter{}, doomed_id_);

  hub_.close_revoked(*tokens_);
  EXPECT_EQ(hub_.streams_revoked(), 0u) << "every token is still there";
  EXPECT_EQ(doomed1->ends, 0);

  revoke(doomed_id_);
  hub_.close_revoked(*tokens_);
  EXPECT_EQ(hub_.streams_revoked(), 2u);
  EXPECT_EQ(doomed1->ends, 1);
  EXPECT_EQ(doomed2->ends, 1);
  EXPECT_EQ(kept->ends, 0);
  const std::string last = ": closed: token " + doomed_id_ + " was revoked\n\n";
  ASSERT_GE(doomed1->sent.size(), last.size());
  EXPECT_EQ(doomed1->sent.substr(doomed1->sent.size() - last.size()), last);

  // Ended once; the hub forgets them at the next flush, and events go to
  // the streams left.
  hub_.close_revoked(*tokens_);
  EXPECT_EQ(hub_.streams_revoked(), 2u);
  hub_.flush(std::chrono::steady_clock::now());
  EXPECT_EQ(hub_.subscribers(), 1u);
  hub_.publish(ike_up(8));
  EXPECT_NE(kept->sent.find("\"id\":8"), std::string::npos);
  EXPECT_EQ(doomed1->sent.find("\"id\":8"), std::string::npos);
}

TEST_F(Events, AStreamWhoseClientLeftIsForgottenNotEnded) {
  auto gone = std::make_shared<RecordingSink>();
  hub_.subscribe(gone, EventFilter{}, doomed_id_);
  gone->drop();
  revoke(doomed_id_);
  hub_.close_revoked(*tokens_);
  EXPECT_EQ(hub_.streams_revoked(), 0u);
  EXPECT_EQ(gone->ends, 0);
  hub_.flush(std::chrono::steady_clock::now());
  EXPECT_EQ(hub_.subscribers(), 0u);
}

}  // namespace
}  // namespace corridor::control::api
