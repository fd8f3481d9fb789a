#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/eal_args.h"

namespace corridor::dataplane {
namespace {

config::PortConfig port(std::string name, std::string devargs, config::PortRole role) {
  config::PortConfig p;
  p.name = std::move(name);
  p.devargs = std::move(devargs);
  p.role = role;
  return p;
}

config::DataplaneConfig two_ports() {
  config::DataplaneConfig c;
  c.ports = {port("net_af_packet0", "iface=veth-lan", config::PortRole::protected_side),
             port("net_af_packet1", "iface=veth-wan", config::PortRole::unprotected_side)};
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
  // --vdev=NAME,... counts as well.
  EXPECT_EQ(build_eal_args(two_ports(), {"--vdev=net_af_packet1,iface=x", "-l", "0"}),
            (Args{"--vdev=net_af_packet1,iface=x", "-l", "0", "--main-lcore", "0", "--vdev",
                  "net_af_packet0,iface=veth-lan", "--no-pci"}));
}

TEST(EalArgs, VdevWithoutDevargsIsTheOperators) {
  // net_ring0 with no devargs: the operator's --vdev creates it, so nothing
  // is added for it (and without that --vdev, EAL has no such port).
  auto c = two_ports();
  c.ports[0] = port("net_ring0", "", config::PortRole::protected_side);
  c.worker_lcores.clear();
  EXPECT_EQ(build_eal_args(c, {"--vdev", "net_ring0"}),
            (Args{"--vdev", "net_ring0", "-l", "0", "--main-lcore", "0", "--vdev", "net_af_packet1,iface=veth-wan",
                  "--no-pci"}));
  EXPECT_EQ(build_eal_args(c, {}),
            (Args{"-l", "0", "--main-lcore", "0", "--vdev", "net_af_packet1,iface=veth-wan", "--no-pci"}));
  EXPECT_EQ(ethdev_name(c.ports[0]), "net_ring0");
}

TEST(EalArgs, PciPortsGoOnTheAllowList) {
  auto c = two_ports();
  c.ports[1] = port("3B:00.1", "", config::PortRole::unprotected_side);
  c.worker_lcores.clear();
  EXPECT_EQ(build_eal_args(c, {}), (Args{"-l", "0", "--main-lcore", "0", "--vdev", "net_af_packet0,iface=veth-lan",
                                         "-a", "3B:00.1"}));
  EXPECT_EQ(ethdev_name(c.ports[1]), "0000:3b:00.1");
  EXPECT_EQ(ethdev_name(c.ports[0]), "net_af_packet0");
  // Devargs of a PCI device ride on its allow-list entry.
  c.ports[1].devargs = "rxq_inline_max=64";
  EXPECT_EQ(build_eal_args(c, {}).back(), "3B:00.1,rxq_inline_max=64");
  // An operator's own allow list is left alone.
  EXPECT_EQ(build_eal_args(c, {"-a", "0000:05:00.0"}).back(), "net_af_packet0,iface=veth-lan");
  EXPECT_EQ(build_eal_args(c, {"--no-pci"}).back(), "net_af_packet0,iface=veth-lan");
}

TEST(EalArgs, ExceptionInterfaceTap) {
  auto c = two_ports();
  c.exception_interface = "corridor0";
  EXPECT_EQ(build_eal_args(c, {}),
            (Args{"-l", "0,1,2", "--main-lcore", "0", "--vdev", "net_af_packet0,iface=veth-lan", "--vdev",
                  "net_af_packet1,iface=veth-wan", "--vdev", "net_tap_corridor,iface=corridor0", "--no-pci"}));
  c.exception_interface = "gw-kernel";
  EXPECT_EQ(build_eal_args(c, {"-l", "0"})[9], "net_tap_corridor,iface=gw-kernel");
  // The operator's own net_tap_corridor (other devargs) wins.
  const Args given{"--vdev=net_tap_corridor,iface=mine,mac=fixed", "-l", "0"};
  const auto args = build_eal_args(c, given);
  EXPECT_EQ(std::count_if(args.begin(), args.end(),
                          [](const std::string& a) { return a.find("net_tap_corridor") != std::string::npos; }),
            1);
  // No exception interface, no TAP.
  c.exception_interface.reset();
  for (const auto& a : build_eal_args(c, {})) EXPECT_EQ(a.find("net_tap"), std::string::npos) << a;
}

}  // namespace
}  // namespace corridor::dataplane
