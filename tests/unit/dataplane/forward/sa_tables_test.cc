// SaTables: SAs in slots, the SAD and both SPDs kept in step with the SA
// and policy records, and nothing released while a reader may hold it.
#include "dataplane/forward/sa_tables.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "tests/unit/dataplane/esp_fixture.h"

namespace corridor::dataplane::forward {
namespace {

using channel::Direction;
using channel::PolicyAction;
using channel::ResultCode;
using ipsec::testing::algorithm_cases;
using ipsec::testing::make_keys;
using ipsec::testing::make_record;

class SaTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    ASSERT_NE(qsbr_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(qsbr_, 1), 0);
    ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr_, 0), 0);
    rte_rcu_qsbr_thread_online(qsbr_, 0);  // the "worker" is this thread, reporting by hand
    grace_ = std::make_unique<GracePeriod>(qsbr_);
    tables_ = std::make_unique<SaTables>(backend_, *grace_, 64, "satbl" + std::to_string(++instance_));
  }
  void TearDown() override {
    rte_rcu_qsbr_thread_offline(qsbr_, 0);
    tables_.reset();
    grace_.reset();
    rte_free(qsbr_);
  }
  void quiescent() { rte_rcu_qsbr_quiescent(qsbr_, 0); }

  channel::SaRecord sa(std::uint64_t id, Direction dir, std::uint32_t spi) {
    auto r = make_record(algorithm_cases()[0], {true, false, false, false}, make_keys(algorithm_cases()[0], id), dir, spi);
    r.sa_id = id;
    return r;
  }
  static channel::PolicyRecord policy(std::uint64_t id, Direction dir, PolicyAction action, std::uint64_t sa_id,
                                      std::uint8_t dst_third_octet) {
    channel::PolicyRecord p;
    p.policy_id = id;
    p.direction = dir;
    p.action = action;
    p.sa_id = sa_id;
    p.src = {channel::IpVersion::v4, 24, {10, 0, 0, 0}};
    p.dst = {channel::IpVersion::v4, 24, {10, 0, dst_third_octet, 0}};
    return p;
  }
  static tables::PacketKey key_to(std::uint8_t third_octet) {
    auto pkt = ipsec::testing::udp_packet(false, 10);
    pkt[18] = third_octet;
    tables::PacketKey k;
    EXPECT_EQ(tables::make_key(pkt.data(), static_cast<std::uint32_t>(pkt.size()), k), tables::KeyError::ok);
    return k;
  }
  tables::SadKey sad_key(std::uint32_t spi) {
    tables::SadKey k;
    k.spi = spi;
    k.dst = {192, 0, 2, 2};
    return k;
  }

  static inline int instance_ = 0;
  crypto::IpsecMbBackend backend_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<GracePeriod> grace_;
  std::unique_ptr<SaTables> tables_;
};

TEST_F(SaTablesTest, InboundSasAreFoundBySpiAndOutboundByPolicy) {
  ASSERT_EQ(tables_->install_sa(sa(1, Direction::inbound, 0x100)), ResultCode::ok);
  ASSERT_EQ(tables_->install_sa(sa(2, Direction::outbound, 0x200)), ResultCode::ok);
  const auto hit = tables_->sad().lookup(sad_key(0x100));
  ASSERT_EQ(hit.result, tables::LookupResult::hit);
  EXPECT_EQ(tables_->sa_at(hit.sa_index), tables_->find(1));
  EXPECT_EQ(tables_->sad().lookup(sad_key(0x200)).result, tables::LookupResult::no_sa) << "outbound SAs are not in the SAD";

  EXPECT_EQ(tables_->outbound_spd(), nullptr);
  ASSERT_EQ(tables_->install_policy(policy(10, Direction::outbound, PolicyAction::protect, 2, 1)), ResultCode::ok);
  ASSERT_EQ(tables_->install_policy(policy(11, Direction::outbound, PolicyAction::bypass, 0, 2)), ResultCode::ok);
  const auto* spd = tables_->outbound_spd();
  ASSERT_NE(spd, nullptr);
  const auto d = spd->classify(key_to(1));
  ASSERT_EQ(d.verdict, tables::SpdVerdict::protect);
  EXPECT_EQ(tables_->sa_at(d.sa_index), tables_->find(2));
  EXPECT_EQ(spd->classify(key_to(2)).verdict, tables::SpdVerdict::bypass);
  EXPECT_EQ(spd->classify(key_to(3)).verdict, tables::SpdVerdict::no_policy);

  // Refusals, each with its reason.
  EXPECT_EQ(tables_->install_sa(sa(1, Direction::inbound, 0x101)), ResultCode::sa_exists);
  EXPECT_EQ(tables_->install_sa(sa(3, Direction::inbound, 0x100)), ResultCode::rejected);
  EXPECT_NE(tables_->last_error().find("SPI"), std::string::npos) << tables_->last_error();
  EXPECT_EQ(tables_->install_policy(policy(12, Direction::outbound, PolicyAction::protect, 1, 4)), ResultCode::rejected)
      << "an inbound SA cannot protect outbound traffic";
  EXPECT_EQ(tables_->install_policy(policy(13, Direction::outbound, PolicyAction::protect, 99, 4)), ResultCode::sa_unknown);
}

TEST_F(SaTablesTest, ABatchCompilesTheSpdOnceAtItsEnd) {
  const std::uint64_t builds = tables_->spd_builds();
  tables_->begin_batch();
  for (std::uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(tables_->install_sa(sa(100 + i, Direction::outbound, 0x300 + static_cast<std::uint32_t>(i))),
              ResultCode::ok);
    ASSERT_EQ(tables_->install_policy(policy(200 + i, Direction::outbound, PolicyAction::protect, 100 + i,
                                             static_cast<std::uint8_t>(i))),
              ResultCode::ok);
  }
  // Refused at once, as without a batch: what the compilation would reject.
  auto bad = policy(300, Direction::outbound, PolicyAction::bypass, 0, 50);
  bad.dst.length = 16;  // 10.0.50.0/16: host bits set
  EXPECT_EQ(tables_->install_policy(bad), ResultCode::rejected);
  EXPECT_NE(tables_->last_error().find("host bits"), std::string::npos) << tables_->last_error();
  EXPECT_EQ(tables_->outbound_spd(), nullptr) << "nothing is published before the batch ends";
  EXPECT_EQ(tables_->spd_builds(), builds);
  ASSERT_TRUE(tables_->publish_batch());
  EXPECT_EQ(tables_->spd_builds(), builds + 1) << "eight policies, one compilation";
  for (std::uint8_t i = 0; i < 8; ++i) {
    const auto d = tables_->outbound_spd()->classify(key_to(i));
    ASSERT_EQ(d.verdict, tables::SpdVerdict::protect) << int(i);
    EXPECT_EQ(tables_->sa_at(d.sa_index), tables_->find(100 + i));
  }
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(50)).verdict, tables::SpdVerdict::no_policy);
  // An empty batch compiles nothing; outside a batch every change compiles.
  tables_->begin_batch();
  ASSERT_TRUE(tables_->publish_batch());
  EXPECT_EQ(tables_->spd_builds(), builds + 1);
  tables_->remove_policy(207);
  EXPECT_EQ(tables_->spd_builds(), builds + 2);
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(7)).verdict, tables::SpdVerdict::no_policy);
  // A batch that deletes an SA: its policy discards once the batch is published.
  tables_->begin_batch();
  tables_->remove_sa(100);
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(0)).verdict, tables::SpdVerdict::protect)
      << "still the published table (its slot now empty, which the forwarder counts as sa_gone)";
  ASSERT_TRUE(tables_->publish_batch());
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(0)).verdict, tables::SpdVerdict::discard);
}

TEST_F(SaTablesTest, DeletedSaTurnsItsPolicyIntoDiscardAndFreesTheSlotAfterTheGracePeriod) {
  ASSERT_EQ(tables_->install_sa(sa(2, Direction::outbound, 0x200)), ResultCode::ok);
  ASSERT_EQ(tables_->install_policy(policy(10, Direction::outbound, PolicyAction::protect, 2, 1)), ResultCode::ok);
  const std::uint32_t slot = tables_->outbound_spd()->classify(key_to(1)).sa_index;
  tables_->remove_sa(2);
  EXPECT_EQ(tables_->sa_at(slot), nullptr);
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(1)).verdict, tables::SpdVerdict::discard)
      << "no SA: its traffic must not leave in the clear";
  EXPECT_GT(grace_->pending(), 0u);
  EXPECT_GT(grace_->poll(), 0u) << "the reader has not been quiescent yet";
  quiescent();
  EXPECT_EQ(grace_->poll(), 0u);
  // Re-adding the SA brings protection back, on whatever slot it gets.
  ASSERT_EQ(tables_->install_sa(sa(2, Direction::outbound, 0x200)), ResultCode::ok);
  const auto d = tables_->outbound_spd()->classify(key_to(1));
  EXPECT_EQ(d.verdict, tables::SpdVerdict::protect);
  EXPECT_EQ(tables_->sa_at(d.sa_index), tables_->find(2));
}

TEST_F(SaTablesTest, InboundProtectPoliciesBecomeTheSasSelectors) {
  ASSERT_EQ(tables_->install_sa(sa(1, Direction::inbound, 0x100)), ResultCode::ok);
  EXPECT_EQ(tables_->find(1)->runtime().selectors, nullptr);
  ASSERT_EQ(tables_->install_policy(policy(20, Direction::inbound, PolicyAction::protect, 1, 1)), ResultCode::ok);
  ASSERT_EQ(tables_->install_policy(policy(21, Direction::inbound, PolicyAction::protect, 1, 2)), ResultCode::ok);
  const auto* set = tables_->find(1)->runtime().selectors;
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(tables::selectors_match(*set, key_to(2)));
  EXPECT_FALSE(tables::selectors_match(*set, key_to(3)));
  EXPECT_EQ(tables_->inbound_spd(), nullptr) << "protect policies only feed the selectors";
  tables_->remove_policy(21);
  EXPECT_EQ(tables_->find(1)->runtime().selectors->size(), 1u);
  // Inbound bypass: clear traffic the unprotected side may deliver.
  ASSERT_EQ(tables_->install_policy(policy(22, Direction::inbound, PolicyAction::bypass, 0, 9)), ResultCode::ok);
  ASSERT_NE(tables_->inbound_spd(), nullptr);
  EXPECT_EQ(tables_->inbound_spd()->classify(key_to(9)).verdict, tables::SpdVerdict::bypass);
}

TEST_F(SaTablesTest, UpdateKeepsTheSequenceNumberAndTheReplayWindow) {
  ASSERT_EQ(tables_->install_sa(sa(2, Direction::outbound, 0x200)), ResultCode::ok);
  ASSERT_EQ(tables_->install_sa(sa(1, Direction::inbound, 0x100)), ResultCode::ok);
  const_cast<ipsec::Sa*>(tables_->find(2))->runtime().seq = 777;
  const_cast<ipsec::Sa*>(tables_->find(1))->runtime().replay->update(500);
  auto out = sa(2, Direction::outbound, 0x200);
  out.hard.packets = 1000;
  ASSERT_EQ(tables_->update_sa(out), ResultCode::ok);
  ASSERT_EQ(tables_->update_sa(sa(1, Direction::inbound, 0x100)), ResultCode::ok);
  EXPECT_EQ(tables_->find(2)->runtime().seq, 777u) << "a sequence number (and GCM IV) is never reused";
  EXPECT_EQ(tables_->find(2)->runtime().packets_hard, 1000u);
  EXPECT_EQ(tables_->find(1)->runtime().replay->highest(), 500u);
  EXPECT_EQ(tables_->update_sa(sa(1, Direction::inbound, 0x101)), ResultCode::rejected) << "new SPI: a new SA";
  EXPECT_EQ(tables_->update_sa(sa(5, Direction::inbound, 0x100)), ResultCode::sa_unknown);
}

TEST_F(SaTablesTest, FlushEmptiesEverything) {
  for (std::uint64_t i = 1; i <= 40; ++i) {
    ASSERT_EQ(tables_->install_sa(sa(i, i % 2 ? Direction::inbound : Direction::outbound, 0x1000 + static_cast<std::uint32_t>(i))),
              ResultCode::ok);
  }
  ASSERT_EQ(tables_->install_policy(policy(10, Direction::outbound, PolicyAction::protect, 2, 1)), ResultCode::ok);
  tables_->flush();
  EXPECT_EQ(tables_->sa_count(), 0u);
  EXPECT_EQ(tables_->policy_count(), 0u);
  EXPECT_EQ(tables_->outbound_spd(), nullptr);
  EXPECT_EQ(tables_->sad().lookup(sad_key(0x1001)).result, tables::LookupResult::no_sa);
  quiescent();
  grace_->poll();
  // All 64 slots are free again.
  for (std::uint64_t i = 1; i <= 64; ++i) {
    ASSERT_EQ(tables_->install_sa(sa(100 + i, Direction::outbound, static_cast<std::uint32_t>(0x2000 + i))), ResultCode::ok) << i;
  }
  EXPECT_EQ(tables_->install_sa(sa(200, Direction::outbound, 0x3000)), ResultCode::table_full);
}

TEST_F(SaTablesTest, StaticSasAndPoliciesSurviveAFlush) {
  ASSERT_EQ(tables_->install_static_sa(sa(1000, Direction::outbound, 0x900)), ResultCode::ok);
  ASSERT_EQ(tables_->install_static_policy(policy(1000, Direction::outbound, PolicyAction::protect, 1000, 1)),
            ResultCode::ok);
  ASSERT_EQ(tables_->install_sa(sa(2, Direction::outbound, 0x200)), ResultCode::ok);
  ASSERT_EQ(tables_->install_policy(policy(10, Direction::outbound, PolicyAction::protect, 2, 2)), ResultCode::ok);
  tables_->flush();  // what a (re)starting control plane sends
  EXPECT_EQ(tables_->sa_count(), 1u);
  EXPECT_EQ(tables_->policy_count(), 1u);
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(1)).verdict, tables::SpdVerdict::protect);
  EXPECT_EQ(tables_->outbound_spd()->classify(key_to(2)).verdict, tables::SpdVerdict::no_policy);
}

}  // namespace
}  // namespace corridor::dataplane::forward
