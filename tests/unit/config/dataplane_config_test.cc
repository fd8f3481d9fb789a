// The config's dataplane section: ports (a list of DPDK devices), routes,
// static neighbors and lcores, every value and every error with its pointer.
// Static SAs are in static_sa_test.cc.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/config/loader.h"
#include "tests/unit/config/load_support.h"

namespace corridor::config {
namespace {

using testing::all;
using testing::find;
using testing::load;
using testing::message_at;

TEST(DataplaneConfig, PortsRoutesNeighborsAndCores) {
  const auto r = load(R"({"dataplane": {
      "ports": [
        {"name": "net_af_packet0", "devargs": "iface=veth0", "role": "protected", "address": "10.1.0.1/24"},
        {"name": "0000:3b:00.0", "role": "unprotected", "address": ["192.0.2.1/24", "2001:db8::1/64"], "mtu": 9000},
        {"name": "net_ring0", "role": "protected"},
        {"name": "net_pcap0", "devargs": "rx_pcap=in.pcap,tx_pcap=out.pcap", "role": "protected",
         "address": "10.9.0.1/31, 2001:db8:9::1/127"}],
      "routes": [{"prefix": "0.0.0.0/0", "via": "192.0.2.254", "port": "0000:3b:00.0"},
                 {"prefix": "10.8.0.0/16", "port": "net_af_packet0"},
                 {"prefix": "::/0", "via": "fe80::1", "port": "0000:3b:00.0"},
                 {"prefix": "2001:db8:77::/48", "via": "2001:db8::ff", "port": "0000:3b:00.0"}],
      "neighbors": [{"ip": "192.0.2.254", "mac": "02:00:00:00:00:01"},
                    {"ip": "2001:db8::ff", "mac": "0A:1b:2C:3d:4E:5f"}],
      "cores": {"main": 0, "workers": [1, 2]}, "poll_mode": "busy"}})");
  ASSERT_TRUE(r.ok()) << all(r);
  // Valid, with the one warning that corridor-dataplane cannot run workers yet.
  ASSERT_EQ(r.diagnostics.items().size(), 1u) << all(r);
  EXPECT_EQ(r.diagnostics.items()[0].pointer, "/dataplane/cores/workers");
  EXPECT_NE(r.diagnostics.items()[0].message.find("worker lcores are not supported yet"), std::string::npos);
  const auto& d = r.config->dataplane;
  ASSERT_EQ(d.ports.size(), 4u);
  EXPECT_EQ(d.ports[0].name, "net_af_packet0");
  EXPECT_EQ(d.ports[0].devargs, "iface=veth0");
  EXPECT_EQ(d.ports[0].role, PortRole::protected_side);
  EXPECT_FALSE(d.ports[0].is_pci());
  ASSERT_EQ(d.ports[0].addresses.size(), 1u);
  EXPECT_EQ(d.ports[0].addresses[0].to_string(), "10.1.0.1/24");
  EXPECT_EQ(d.ports[0].mtu, 1500);
  EXPECT_EQ(d.ports[1].name, "0000:3b:00.0");
  EXPECT_TRUE(d.ports[1].is_pci());
  EXPECT_TRUE(d.ports[1].devargs.empty());
  EXPECT_EQ(d.ports[1].role, PortRole::unprotected_side);
  ASSERT_EQ(d.ports[1].addresses.size(), 2u);
  EXPECT_EQ(d.ports[1].addresses[1].to_string(), "2001:db8::1/64");
  EXPECT_EQ(d.ports[1].mtu, 9000);
  EXPECT_TRUE(d.ports[2].addresses.empty());
  EXPECT_EQ(d.ports[3].devargs, "rx_pcap=in.pcap,tx_pcap=out.pcap");
  EXPECT_EQ(d.ports[3].addresses.size(), 2u);
  EXPECT_EQ(d.find_port("net_ring0"), &d.ports[2]);
  EXPECT_EQ(d.find_port("lan"), nullptr);
  ASSERT_EQ(d.routes.size(), 4u);
  EXPECT_EQ(d.routes[0].via->to_string(), "192.0.2.254");
  EXPECT_EQ(d.routes[0].port, "0000:3b:00.0");
  EXPECT_FALSE(d.routes[1].via);
  EXPECT_EQ(d.routes[2].prefix.to_string(), "::/0");
  ASSERT_EQ(d.neighbors.size(), 2u);
  EXPECT_EQ(d.neighbors[0].ip.to_string(), "192.0.2.254");
  EXPECT_EQ(d.neighbors[0].mac, (std::array<std::uint8_t, 6>{0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(d.neighbors[1].mac, (std::array<std::uint8_t, 6>{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}));
  EXPECT_TRUE(d.static_sas.empty());
  EXPECT_EQ(d.worker_lcores, (std::vector<unsigned>{1, 2}));
  EXPECT_EQ(d.poll_mode, PollMode::busy);
}

TEST(DataplaneConfig, PortsMustBeAList) {
  // The object map of earlier versions names its mistake.
  const auto r = load(R"({"dataplane": {"ports": {"lan": {"vdev": "net_null0", "role": "protected"}}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports"), "must be an array of ports {name, role, address, mtu}, not an object");
}

// DPDK keeps at most 63 characters of a device name (RTE_DEV_NAME_MAX_LEN),
// and PORT_STATS carries the name in as many.
TEST(DataplaneConfig, PortNamesFitDpdk) {
  const std::string longest = "net_af_packet" + std::string(50, '0');
  ASSERT_EQ(longest.size(), 63U);
  const std::string fits = R"({"dataplane": {"ports": [{"name": ")" + longest + R"(", "role": "protected"}]}})";
  EXPECT_FALSE(find(load(fits.c_str()), "/dataplane/ports/0/name"));
  const std::string too_long = R"({"dataplane": {"ports": [{"name": ")" + longest + R"(0", "role": "protected"}]}})";
  const auto r = load(too_long.c_str());
  EXPECT_EQ(message_at(r, "/dataplane/ports/0/name"), "a DPDK device name has at most 63 characters (got 64)");
}

TEST(DataplaneConfig, PortErrorsNameTheirValue) {
  const auto r = load(R"({"dataplane": {"ports": [
      {"role": "protected"},
      {"name": "bad name!", "role": "protected"},
      {"name": "net_pcap0,rx_pcap=a.pcap", "role": "protected"},
      {"name": "net_x0", "vdev": "net_x0,iface=a", "pci": "0000:03:00.0", "role": "protected"},
      {"name": "net_x1", "devargs": "", "role": "protected"},
      {"name": "net_x2", "devargs": "iface=a b", "role": "protected"},
      {"name": "net_x3", "devargs": "iface=a,,x=1", "role": "protected"},
      {"name": "net_x4", "devargs": "net_x4,iface=a", "role": "protected"},
      {"name": "net_x5"},
      {"name": "net_x6", "role": "inside"},
      {"name": "net_x7", "role": "protected", "address": ["10.0.0.0/24", "10.0.0.1", "10.0.0.255/24", "224.0.0.1/4",
                                                          "10.1.0.1/24", "10.2.0.1/24", "1.2.3.4.5/8", "::/64"]},
      {"name": "net_x8", "role": "protected", "address": []},
      {"name": "net_x9", "role": "protected", "mtu": 100},
      {"name": "net_x10", "role": "protected", "address": "2001:db8::1/64", "mtu": 1000},
      {"name": "net_x11", "role": "protected", "addresses": ["10.3.0.1/24"]},
      "net_x12",
      {"name": "03:00.0", "role": "unprotected"},
      {"name": "0000:03:00.0", "role": "unprotected"},
      {"name": "net_x13", "role": "unprotected", "address": "10.1.0.1/16"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports/0"), "a port needs \"name\": its DPDK device, e.g. 0000:3b:00.0 or net_af_packet0");
  EXPECT_EQ(message_at(r, "/dataplane/ports/1/name"),
            "not a DPDK device name: a PCI address such as 0000:3b:00.0, or a virtual device such as net_af_packet0 "
            "or net_pcap0 (got 'bad name!')");
  EXPECT_EQ(message_at(r, "/dataplane/ports/2/name"),
            "the device's arguments go in \"devargs\": \"name\": \"net_pcap0\", \"devargs\": \"rx_pcap=a.pcap\"");
  EXPECT_EQ(message_at(r, "/dataplane/ports/3/vdev"),
            "'vdev' is not a port key: the device goes in \"name\" and its arguments in \"devargs\", e.g. {\"name\": "
            "\"net_af_packet0\", \"devargs\": \"iface=eth1\"}");
  EXPECT_TRUE(find(r, "/dataplane/ports/3/pci"));
  EXPECT_EQ(message_at(r, "/dataplane/ports/4/devargs"),
            "must not be empty: leave devargs out when the EAL arguments create the device");
  EXPECT_EQ(message_at(r, "/dataplane/ports/5/devargs"), "devargs must not contain spaces or control characters: iface=a b");
  EXPECT_EQ(message_at(r, "/dataplane/ports/6/devargs"),
            "empty item in devargs (two ',' in a row, or a leading or trailing ','): iface=a,,x=1");
  EXPECT_EQ(message_at(r, "/dataplane/ports/7/devargs"),
            "devargs hold only the device's arguments; the device name is \"name\": remove 'net_x4,'");
  EXPECT_EQ(message_at(r, "/dataplane/ports/8/role"), "required: protected (clear LAN side) or unprotected (WAN side)");
  EXPECT_EQ(message_at(r, "/dataplane/ports/9/role"), "must be one of protected, unprotected (got 'inside')");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/0"),
            "this is a network address, not an interface address: 10.0.0.0/24");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/1"), "interface address needs its prefix length, e.g. 10.0.0.1/24");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/2"),
            "this is the subnet's broadcast address, not an interface address: 10.0.0.255/24");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/3"), "not a unicast address: 224.0.0.1/4");
  EXPECT_FALSE(find(r, "/dataplane/ports/10/address/4"));
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/5"),
            "a port has at most one IPv4 and one IPv6 address; this is a second IPv4 address");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/6"), "not an IP address: 1.2.3.4.5");
  EXPECT_EQ(message_at(r, "/dataplane/ports/10/address/7"), "not a unicast address: ::/64");
  EXPECT_EQ(message_at(r, "/dataplane/ports/11/address"), "must list at least one address, or be left out");
  EXPECT_EQ(message_at(r, "/dataplane/ports/12/mtu"), "must be 576..9216 (got 100)");
  EXPECT_EQ(message_at(r, "/dataplane/ports/13/mtu"),
            "a port with an IPv6 address needs an MTU of at least 1280 (RFC 8200 §5)");
  EXPECT_EQ(message_at(r, "/dataplane/ports/14/addresses"), "unknown key 'addresses', did you mean 'address'?");
  EXPECT_EQ(message_at(r, "/dataplane/ports/15"), "must be an object, not a string");
  // 03:00.0 is 0000:03:00.0 to EAL.
  EXPECT_EQ(message_at(r, "/dataplane/ports/17/name"), "device '0000:03:00.0' is already port /dataplane/ports/16");
  EXPECT_EQ(message_at(r, "/dataplane/ports/18/address"), "address 10.1.0.1 is also on port 'net_x7'");
  EXPECT_FALSE(find(r, "/dataplane/ports")) << all(r);  // both roles are there
}

TEST(DataplaneConfig, PortMacAddress) {
  const auto ok = load(R"({"dataplane": {"ports": [
      {"name": "net_pcap0", "role": "protected", "mac": "02:00:00:00:01:0A"},
      {"name": "net_pcap1", "role": "unprotected"}]}})");
  ASSERT_TRUE(ok.ok()) << all(ok);
  ASSERT_TRUE(ok.config->dataplane.ports[0].mac);
  EXPECT_EQ(*ok.config->dataplane.ports[0].mac, (std::array<std::uint8_t, 6>{2, 0, 0, 0, 1, 0x0a}));
  EXPECT_FALSE(ok.config->dataplane.ports[1].mac) << "the device's own by default";

  const auto r = load(R"({"dataplane": {"ports": [
      {"name": "net_pcap0", "role": "protected", "mac": "02:00:00:00:01"},
      {"name": "net_pcap1", "role": "protected", "mac": "01:00:5e:00:00:01"},
      {"name": "net_pcap2", "role": "unprotected", "mac": "00:00:00:00:00:00"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports/0/mac"),
            "not a MAC address (six hex pairs separated by ':', e.g. 02:00:00:00:00:01): 02:00:00:00:01");
  EXPECT_EQ(message_at(r, "/dataplane/ports/1/mac"),
            "a port's MAC address must be unicast (first octet even): 01:00:5e:00:00:01");
  EXPECT_EQ(message_at(r, "/dataplane/ports/2/mac"), "the all-zero MAC address cannot be a port's");
}

TEST(DataplaneConfig, PortCountAndRoles) {
  std::string many = R"({"dataplane": {"ports": [)";
  for (int i = 0; i < 33; ++i)
    many += std::string(i ? "," : "") + R"({"name": "net_null)" + std::to_string(i) + R"(", "role": ")" +
            (i ? "protected" : "unprotected") + "\"}";
  many += "]}}";
  auto r = load(many.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports"), "at most 32 ports (DPDK's RTE_MAX_ETHPORTS); got 33");

  r = load(R"({"dataplane": {"ports": [{"name": "net_null0", "role": "protected"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports"), "a gateway needs at least one protected and one unprotected port");

  r = load(R"({"dataplane": {"ports": []}})");
  EXPECT_TRUE(r.ok()) << all(r);  // no ports at all: nothing to forward, nothing wrong
}

TEST(DataplaneConfig, RouteErrors) {
  const auto r = load(R"({"dataplane": {
      "ports": [{"name": "net_null0", "role": "protected", "address": "10.0.0.1/24"},
                {"name": "net_null1", "role": "unprotected", "address": "192.0.2.1/24"}],
      "routes": [{"prefix": "10.0.0.1/8", "port": "zz"},
                 {"prefix": "::/0", "via": "10.0.0.1", "port": "net_null0"},
                 {"prefix": "0.0.0.0/0", "via": "198.51.100.1", "port": "net_null1"},
                 {"prefix": "2001:db8::/32", "via": "2001:db8::1", "port": "net_null1"},
                 {"prefix": "10.5.0.0/16", "via": "192.0.2.1", "port": "net_null1"},
                 {"prefix": "10.6.0.0/16", "via": "not-an-ip", "port": "net_null1"},
                 {"prefix": "10.7.0.0/16", "via": "192.0.2.9", "port": "net_null1"},
                 {"prefix": "10.7.0.0/16", "via": "192.0.2.10", "port": "net_null1"},
                 {"via": "192.0.2.10"},
                 {"prefix": "10.8.0.0/16", "via": "224.0.0.5", "port": "net_null1"},
                 {"prefix": "10.9.0.0/16", "port": "net_null1", "metric": 5}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/routes/0/prefix"), "host bits set in 10.0.0.1/8, did you mean 10.0.0.0/8?");
  EXPECT_EQ(message_at(r, "/dataplane/routes/1/via"), "next hop family differs from the prefix's");
  EXPECT_EQ(message_at(r, "/dataplane/routes/2/via"),
            "next hop 198.51.100.1 is not in the subnet of port 'net_null1' (192.0.2.0/24)");
  EXPECT_EQ(message_at(r, "/dataplane/routes/3/via"),
            "port 'net_null1' has no IPv6 address, so next hop 2001:db8::1 cannot be resolved on it");
  EXPECT_EQ(message_at(r, "/dataplane/routes/4/via"), "next hop 192.0.2.1 is the address of port 'net_null1' itself");
  EXPECT_EQ(message_at(r, "/dataplane/routes/5/via"), "not an IP address: not-an-ip");
  EXPECT_FALSE(find(r, "/dataplane/routes/6/prefix"));
  EXPECT_EQ(message_at(r, "/dataplane/routes/7/prefix"), "a route to 10.7.0.0/16 is already /dataplane/routes/6");
  EXPECT_EQ(message_at(r, "/dataplane/routes/8"), "route needs \"prefix\"");
  EXPECT_EQ(message_at(r, "/dataplane/routes/9/via"), "next hop must be a unicast address: 224.0.0.5");
  EXPECT_EQ(message_at(r, "/dataplane/routes/10/metric"), "unknown key 'metric'");

  const auto zz = load(R"({"dataplane": {
      "ports": [{"name": "net_null0", "role": "protected"}, {"name": "net_null1", "role": "unprotected"}],
      "routes": [{"prefix": "10.0.0.0/8", "port": "zz"}]}})");
  EXPECT_EQ(message_at(zz, "/dataplane/routes/0/port"), "no port named 'zz' in /dataplane/ports");
  EXPECT_EQ(message_at(load(R"({"dataplane": {"routes": {}}})"), "/dataplane/routes"),
            "must be an array of routes {prefix, via, port}, not an object");
}

TEST(DataplaneConfig, NeighborErrors) {
  const auto r = load(R"({"dataplane": {
      "ports": [{"name": "net_null0", "role": "protected", "address": "10.0.0.1/24"},
                {"name": "net_null1", "role": "unprotected", "address": "192.0.2.1/24"}],
      "neighbors": [{"ip": "192.0.2.2", "mac": "02:00:00:00:00:02"},
                    {"ip": "192.0.2.2", "mac": "02:00:00:00:00:03"},
                    {"ip": "10.0.0.1", "mac": "02:00:00:00:00:04"},
                    {"ip": "ff02::1", "mac": "02:00:00:00:00:05"},
                    {"ip": "255.255.255.255", "mac": "02:00:00:00:00:06"},
                    {"ip": "nope", "mac": "02:00:00:00:00:07"},
                    {"ip": "192.0.2.8", "mac": "02-00-00-00-00-08"},
                    {"ip": "192.0.2.9", "mac": "02:00:00:00:00"},
                    {"ip": "192.0.2.10", "mac": "0g:00:00:00:00:0a"},
                    {"ip": "192.0.2.11", "mac": "01:00:5e:00:00:01"},
                    {"ip": "192.0.2.12", "mac": "ff:ff:ff:ff:ff:ff"},
                    {"ip": "192.0.2.13", "mac": "00:00:00:00:00:00"},
                    {"mac": "02:00:00:00:00:0e"},
                    {"ip": "192.0.2.15"},
                    {"ip": "192.0.2.16", "mac": "02:00:00:00:00:10", "port": "net_null1"}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(find(r, "/dataplane/neighbors/0/ip"));
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/1/ip"), "neighbor 192.0.2.2 is already /dataplane/neighbors/0");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/2/ip"), "10.0.0.1 is the address of port 'net_null0' itself");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/3/ip"), "a neighbor has a unicast address: ff02::1");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/4/ip"), "a neighbor has a unicast address: 255.255.255.255");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/5/ip"), "not an IP address: nope");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/6/mac"),
            "not a MAC address (six hex pairs separated by ':', e.g. 02:00:00:00:00:01): 02-00-00-00-00-08");
  EXPECT_TRUE(find(r, "/dataplane/neighbors/7/mac"));
  EXPECT_TRUE(find(r, "/dataplane/neighbors/8/mac"));
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/9/mac"),
            "a multicast or broadcast MAC address cannot be a neighbor: 01:00:5e:00:00:01");
  EXPECT_TRUE(find(r, "/dataplane/neighbors/10/mac"));
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/11/mac"), "the all-zero MAC address cannot be a neighbor");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/12"), "neighbor needs \"ip\"");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/13"), "neighbor needs \"mac\"");
  EXPECT_EQ(message_at(r, "/dataplane/neighbors/14/port"), "unknown key 'port'");
  EXPECT_EQ(message_at(load(R"({"dataplane": {"neighbors": "192.0.2.1"}})"), "/dataplane/neighbors"),
            "must be an array of static neighbors {ip, mac}, not a string");
}

TEST(DataplaneConfig, CoreErrors) {
  const auto r = load(R"({"dataplane": {"cores": {"main": 1, "workers": [1, 2, 2, 500, "3"]}, "poll_mode": "lazy"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/cores/workers/0"),
            "lcore 1 is the main lcore; leave workers empty to forward on the main lcore");
  EXPECT_EQ(message_at(r, "/dataplane/cores/workers/2"), "lcore 2 listed twice");
  EXPECT_EQ(message_at(r, "/dataplane/cores/workers/3"), "lcore id must be 0..127");
  EXPECT_EQ(message_at(r, "/dataplane/cores/workers/4"), "lcore id must be 0..127");
  EXPECT_EQ(message_at(r, "/dataplane/poll_mode"), "must be one of busy, adaptive (got 'lazy')");
}

TEST(DataplaneConfig, ExceptionInterface) {
  const char* ports = R"("ports": [
      {"name": "net_af_packet0", "devargs": "iface=lan", "role": "protected", "address": "10.1.0.1/24"},
      {"name": "net_af_packet1", "devargs": "iface=wan", "role": "unprotected", "address": "192.0.2.1/24"}])";
  const auto doc = [&](const std::string& rest) { return R"({"dataplane": {)" + std::string(ports) + rest + "}}"; };

  // Absent: no exception path.
  auto r = load(doc("").c_str());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_FALSE(r.config->dataplane.exception_interface);

  r = load(doc(R"(, "exception_interface": "corridor0")").c_str());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->dataplane.exception_interface, "corridor0");
  r = load(doc(R"(, "exception_interface": "exactly15chars_")").c_str());
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config->dataplane.exception_interface, "exactly15chars_");

  // What the kernel refuses (dev_valid_name), what would break the EAL
  // devargs, a name template.
  for (const char* bad : {"", "sixteen_chars_16", ".", "..", "a/b", "tap 0", "tap\t0", "tap0:1", "tap,0", "tap=0",
                          "tap%d", "t\u00e4p0"}) {
    r = load(doc(R"(, "exception_interface": )" + nlohmann::json(bad).dump()).c_str());
    ASSERT_FALSE(r.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(message_at(r, "/dataplane/exception_interface"),
              std::string("not a network interface name: 1 to 15 printable ASCII characters without '/', ':', ',', "
                          "'=', '%' or spaces, e.g. corridor0 (got '") + bad + "')");
    EXPECT_FALSE(r.config && r.config->dataplane.exception_interface);
  }
  r = load(doc(R"(, "exception_interface": 7)").c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(message_at(r, "/dataplane/exception_interface"), "(none)");

  // The TAP's DPDK device name is taken while the exception path is on.
  r = load(R"({"dataplane": {"ports": [
      {"name": "net_tap_corridor", "devargs": "iface=x", "role": "protected", "address": "10.1.0.1/24"},
      {"name": "net_af_packet1", "devargs": "iface=wan", "role": "unprotected", "address": "192.0.2.1/24"}],
      "exception_interface": "corridor0"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(message_at(r, "/dataplane/ports/0/name"),
            "net_tap_corridor is the exception interface's device: give the port another name");
}

TEST(DataplaneConfig, InterfaceNames) {
  EXPECT_TRUE(is_valid_interface_name("corridor0"));
  EXPECT_TRUE(is_valid_interface_name("a"));
  EXPECT_TRUE(is_valid_interface_name("gw-tap.10_x"));
  EXPECT_FALSE(is_valid_interface_name(std::string_view("tap\0x", 5)));
  EXPECT_FALSE(is_valid_interface_name("tap\x7f"));
}

}  // namespace
}  // namespace corridor::config
