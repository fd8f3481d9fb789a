// Manager::reconfigure (PUT /config): SAs of unchanged connections move to
// the new config untouched, those of changed or removed connections are
// closed, and the old config lives exactly as long as an SA points into it
// (under ASan, any pointer left behind is a use-after-free).
#include <gtest/gtest.h>

#include "tests/unit/ikev2/peer_pair.h"

namespace {

using namespace corridor;               // NOLINT: test brevity
using namespace corridor::control;      // NOLINT
using namespace corridor::ikev2_test;   // NOLINT
using namespace std::chrono_literals;

std::shared_ptr<const config::Config> config_of_a(const PeerSpec& spec) {
  return std::make_shared<const config::Config>(
      make_config("192.0.2.1", "198.51.100.2", "a.example.net", "b.example.net", spec));
}

TEST(Ikev2Reconfigure, UnchangedConnectionKeepsItsSasAndLetsTheOldConfigGo) {
  Pair p(PeerSpec{}, PeerSpec{}.mirrored());
  p.establish();
  const auto before = p.a.list().at(0);
  const auto sas_before = p.dp_a.sas;
  std::weak_ptr<const config::Config> old = p.shared_a;

  const auto result = p.a.reconfigure(config_of_a(PeerSpec{}), {"peer"}, p.now);
  p.shared_a.reset();
  EXPECT_EQ(result.kept, 1u);
  EXPECT_EQ(result.terminated, 0u);
  EXPECT_EQ(result.initiated, 0u);
  EXPECT_TRUE(old.expired()) << "an SA still points into the replaced config";
  EXPECT_TRUE(p.wire_a.queue.empty()) << "nothing for the peer to see";

  const auto after = p.a.list().at(0);
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.state, "ESTABLISHED");
  ASSERT_EQ(after.children.size(), 1u);
  EXPECT_EQ(after.children[0].spi_in, before.children[0].spi_in);
  EXPECT_EQ(p.dp_a.sas.size(), sas_before.size());

  // The moved SAs work under the new config: a Child SA rekey, an IKE SA
  // rekey, then a clean delete.
  std::string why;
  ASSERT_TRUE(p.a.rekey_child(after.id, after.children[0].spi_in, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  EXPECT_EQ(p.a.stats().child_sas_rekeyed, 1u);
  expect_matching_child_sas(p.dp_a, p.dp_b);
  ASSERT_TRUE(p.a.rekey(after.id, p.now, &why)) << why;
  run_until(p, p.now + 3s);
  EXPECT_EQ(p.a.stats().ike_sas_rekeyed, 1u);
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  EXPECT_EQ(p.a.terminate_children("peer", "net", p.now), 1u);
  run_until(p, p.now + 2s);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());
}

TEST(Ikev2Reconfigure, ChangedConnectionIsClosedAndStartedAgain) {
  PeerSpec spec;
  spec.start_action = "start";
  Pair p(spec, PeerSpec{}.mirrored());
  p.establish();
  const auto old_id = p.a.list().at(0).id;
  std::weak_ptr<const config::Config> old = p.shared_a;

  PeerSpec changed = spec;
  changed.child_rekey = "2h";
  const auto result = p.a.reconfigure(config_of_a(changed), {}, p.now);
  p.shared_a.reset();
  EXPECT_EQ(result.kept, 0u);
  EXPECT_EQ(result.terminated, 1u);
  EXPECT_EQ(result.initiated, 1u);
  // The old IKE SA's Delete is out: it keeps its config until that ends.
  EXPECT_FALSE(old.expired());

  run_until(p, p.now + 3s);
  EXPECT_TRUE(old.expired());
  ASSERT_EQ(p.a.ike_sa_count(), 1u);
  ASSERT_EQ(p.b.ike_sa_count(), 1u);
  const auto now_up = p.a.list().at(0);
  EXPECT_NE(now_up.id, old_id);
  EXPECT_EQ(now_up.state, "ESTABLISHED");
  ASSERT_EQ(now_up.children.size(), 1u);
  // The new Child SA runs on the new definition: rekey in about 2 h.
  EXPECT_GT(now_up.children[0].rekey_at - p.now, 1h);
  expect_matching_child_sas(p.dp_a, p.dp_b);
}

TEST(Ikev2Reconfigure, RemovedConnectionIsClosedAndHalfOpenSasDropped) {
  Pair p(PeerSpec{}, PeerSpec{}.mirrored());
  p.establish();
  // A second IKE SA still in IKE_SA_INIT: nothing to tell the peer.
  ASSERT_TRUE(p.a.initiate("peer", "net", p.now));
  p.wire_a.queue.clear();
  ASSERT_EQ(p.a.ike_sa_count(), 2u);

  const auto result = p.a.reconfigure(std::make_shared<const config::Config>(), {"peer"}, p.now);
  EXPECT_EQ(result.kept, 0u) << "a name in `unchanged` that the new config lacks is not kept";
  EXPECT_EQ(result.terminated, 2u);
  EXPECT_EQ(p.a.ike_sa_count(), 1u);  // the established one, deleting
  run_until(p, p.now + 3s);
  EXPECT_EQ(p.a.ike_sa_count(), 0u);
  EXPECT_EQ(p.b.ike_sa_count(), 0u);
  EXPECT_TRUE(p.dp_a.sas.empty());
  EXPECT_TRUE(p.dp_b.sas.empty());

  std::string why;
  EXPECT_FALSE(p.a.initiate("peer", "net", p.now, &why));
  EXPECT_EQ(why, "no such connection");
}

}  // namespace
