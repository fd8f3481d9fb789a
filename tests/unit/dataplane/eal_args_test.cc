#include <gtest/gtest.h>

#include "dataplane/eal_args.h"

namespace corridor::dataplane {
namespace {

config::DataplaneConfig two_ports() {
  config::DataplaneConfig c;
  config::PortConfig lan;
  lan.name = "lan";
  lan.vdev = "net_af_packet0,iface=veth-lan";
  config::PortConfig wan;
  wan.name = "wan";
  wan.vdev = "net_af_packet1,iface=veth-wan";
  wan.role = config::PortRole::unprotected_side;
  c.ports = {lan, wan};
  c.main_lcore = 0;
  c.worker_lcores = {1, 2};
  return c;
}

using Args = std::vector<std::string>;

TEST(EalArgs, DerivesLcoresVdevsAndNoPci) {
  EXPECT_EQ(build_eal_args(two_ports(), {}),
            (Args{"-l", "0,1,2", "--main-lcore", "0", "--vdev", "net_af_packet0,iface=veth-lan", "--vdev",
                  "net_af_packet1,iface=veth-wan", "--no-pci"}));
}

TEST(EalArgs, OperatorArgumentsWin) {
  const Args given{"-l0-3", "--main-lcore=1", "--vdev", "net_af_packet0,iface=other", "--no-huge"};
  const auto args = build_eal_args(two_ports(), given);
  EXPECT_EQ(args, (Args{"-l0-3", "--main-lcore=1", "--vdev", "net_af_packet0,iface=other", "--no-huge", "--vdev",
                        "net_af_packet1,iface=veth-wan", "--no-pci"}));
}

TEST(EalArgs, PciPortsGoOnTheAllowList) {
  auto c = two_ports();
  c.ports[1].vdev.clear();
  c.ports[1].pci = "03:00.1";
  c.worker_lcores.clear();
  EXPECT_EQ(build_eal_args(c, {}), (Args{"-l", "0", "--main-lcore", "0", "--vdev", "net_af_packet0,iface=veth-lan",
                                         "-a", "03:00.1"}));
  EXPECT_EQ(ethdev_name(c.ports[1]), "0000:03:00.1");
  EXPECT_EQ(ethdev_name(c.ports[0]), "net_af_packet0");
  // An operator's own allow list is left alone.
  EXPECT_EQ(build_eal_args(c, {"-a", "0000:05:00.0"}).back(), "net_af_packet0,iface=veth-lan");
}

}  // namespace
}  // namespace corridor::dataplane
