// DPDK and IPsec-MB as this machine (and CI) provide them: EAL starts from a
// Corridor config with --no-huge and virtual ports, packets move through an
// ethdev, and IPsec-MB picks a code path at run time and computes a
// known-answer AES-GCM vector. If this fails, nothing in the dataplane can work.
#include <gtest/gtest.h>
#include <intel-ipsec-mb.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>

#include "dataplane/eal_args.h"

namespace corridor::dataplane {
namespace {

std::vector<std::uint8_t> hex(const char* s) {
  std::vector<std::uint8_t> out;
  for (; s[0] && s[1]; s += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s, 2), nullptr, 16)));
  return out;
}

TEST(Eal, StartsFromConfigWithoutHugepagesAndMovesPackets) {
  // As the loader reads {"name": "net_null0", "devargs": "size=64", ...}.
  config::DataplaneConfig dp;
  config::PortConfig lan, wan;
  lan.name = "net_null0";
  lan.devargs = "size=64";
  wan.name = "net_null1";
  wan.devargs = "size=64";
  wan.role = config::PortRole::unprotected_side;
  dp.ports = {lan, wan};

  const std::string prefix = "corridor-test-" + std::to_string(::getpid());
  auto args = build_eal_args(dp, {"corridor-eal-test", "--no-huge", "-m", "256", "--file-prefix",
                                  prefix, "--log-level", "error"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << rte_strerror(rte_errno);

  ASSERT_EQ(rte_eth_dev_count_avail(), 2u);
  std::uint16_t wan_port = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name(ethdev_name(wan).c_str(), &wan_port), 0);

  rte_mempool* pool = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  ASSERT_NE(pool, nullptr) << rte_strerror(rte_errno);
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(wan_port, 1, 1, &conf), 0);
  ASSERT_EQ(rte_eth_rx_queue_setup(wan_port, 0, 128, SOCKET_ID_ANY, nullptr, pool), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(wan_port, 0, 128, SOCKET_ID_ANY, nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(wan_port), 0);

  std::array<rte_mbuf*, 32> burst{};
  const auto received = rte_eth_rx_burst(wan_port, 0, burst.data(), burst.size());
  EXPECT_EQ(received, burst.size());  // net_null always has packets to give
  const auto sent = rte_eth_tx_burst(wan_port, 0, burst.data(), received);
  EXPECT_EQ(sent, received);
  for (auto i = sent; i < received; ++i) rte_pktmbuf_free(burst[i]);

  rte_eth_stats stats{};
  ASSERT_EQ(rte_eth_stats_get(wan_port, &stats), 0);
  EXPECT_EQ(stats.ipackets, received);
  EXPECT_EQ(stats.opackets, sent);
  EXPECT_EQ(rte_eth_dev_stop(wan_port), 0);
  rte_eth_dev_close(wan_port);
  rte_mempool_free(pool);

  // Leave nothing behind in /var/run/dpdk: tests run many times on one machine.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  EXPECT_EQ(rte_eal_cleanup(), 0);
  std::filesystem::remove_all(runtime_dir);
}

TEST(IpsecMb, RuntimeDispatchAndAesGcmKnownAnswer) {
  IMB_MGR* mgr = alloc_mb_mgr(0);
  ASSERT_NE(mgr, nullptr);
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr, &arch);
  ASSERT_EQ(imb_get_errno(mgr), 0);
  EXPECT_NE(arch, IMB_ARCH_NONE);
  RecordProperty("ipsec_mb_arch", static_cast<int>(arch));

  // The GCM specification's (McGrew & Viega) test case 3: AES-128, 96-bit IV, no AAD.
  const auto key = hex("feffe9928665731c6d6a8f9467308308");
  const auto iv = hex("cafebabefacedbaddecaf888");
  const auto plaintext = hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de6"
      "57ba637b391aafd255");
  const auto expected = hex(
      "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac"
      "973d58e091473f5985");
  const auto expected_tag = hex("4d5c2af327cd64a62cf35abd2ba6fab4");

  gcm_key_data key_data{};
  gcm_context_data ctx{};
  IMB_AES128_GCM_PRE(mgr, key.data(), &key_data);
  std::vector<std::uint8_t> out(plaintext.size());
  std::array<std::uint8_t, 16> tag{};
  IMB_AES128_GCM_ENC(mgr, &key_data, &ctx, out.data(), plaintext.data(), plaintext.size(), iv.data(), nullptr, 0,
                     tag.data(), tag.size());
  EXPECT_EQ(out, expected);
  EXPECT_EQ(std::vector<std::uint8_t>(tag.begin(), tag.end()), expected_tag);
  free_mb_mgr(mgr);
}

}  // namespace
}  // namespace corridor::dataplane
