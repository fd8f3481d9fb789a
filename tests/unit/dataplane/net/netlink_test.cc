// The rtnetlink helper of the exception interface: the requests byte for
// byte against rtnetlink(7)'s layout, the parsing of the kernel's answers,
// and, as root, the real thing: a TAP in a private network namespace
// configured through the helper and read back with iproute2.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>  // before the linux/ headers: ifreq, if_nametoindex
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/net/netlink.h"

namespace corridor::dataplane::net::netlink {
namespace {

using Bytes = std::vector<std::uint8_t>;
using corridor::net::IpAddress;
using corridor::net::Prefix;

Prefix prefix(const char* text) { return *Prefix::parse(text); }

// Little-endian host fields, as the kernel reads them on x86.
void le16(Bytes& b, std::uint16_t v) { b.insert(b.end(), {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)}); }
void le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void header(Bytes& b, std::uint32_t len, std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
  le32(b, len);
  le16(b, type);
  le16(b, flags);
  le32(b, seq);
  le32(b, 0);  // pid: the kernel fills in ours
}
void attr(Bytes& b, std::uint16_t type, const Bytes& data) {
  le16(b, static_cast<std::uint16_t>(4 + data.size()));
  le16(b, type);
  b.insert(b.end(), data.begin(), data.end());
  while (b.size() % 4) b.push_back(0);
}

TEST(NetlinkMessages, SetLinkUpWithMtu) {
  Bytes want;
  header(want, 16 + 16 + 8, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 7);
  want.insert(want.end(), {AF_UNSPEC, 0});  // family, pad
  le16(want, 0);                            // type
  le32(want, 12);                           // ifindex
  le32(want, IFF_UP);                       // flags
  le32(want, IFF_UP);                       // change mask
  attr(want, IFLA_MTU, {0xdc, 0x05, 0, 0});  // 1500
  EXPECT_EQ(set_link_message(7, 12, true, 1500), want);
  Bytes down = set_link_message(7, 12, false, 1500);
  EXPECT_EQ(down[24], 0) << "IFF_UP cleared";
  EXPECT_EQ(down[28], IFF_UP) << "and only IFF_UP changes";
}

TEST(NetlinkMessages, AddAddressV4AndV6) {
  const std::uint16_t create = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  Bytes want;
  header(want, 16 + 8 + 8 + 8, RTM_NEWADDR, create, 3);
  want.insert(want.end(), {AF_INET, 24, 0, RT_SCOPE_UNIVERSE});
  le32(want, 5);
  attr(want, IFA_LOCAL, {192, 0, 2, 1});
  attr(want, IFA_ADDRESS, {192, 0, 2, 1});
  EXPECT_EQ(add_address_message(3, 5, prefix("192.0.2.1/24")), want);

  const Bytes v6 = add_address_message(4, 5, prefix("2001:db8::1/64"));
  ASSERT_EQ(v6.size(), 16u + 8 + 20 + 20);
  EXPECT_EQ(v6[16], AF_INET6);
  EXPECT_EQ(v6[17], 64);
  EXPECT_EQ(v6[18], IFA_F_NODAD) << "usable at once, no DAD on the dataplane's own link";
  EXPECT_EQ(Bytes(v6.begin() + 24, v6.begin() + 28), Bytes({20, 0, IFA_LOCAL, 0}));
  EXPECT_EQ(Bytes(v6.begin() + 28, v6.begin() + 44),
            Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(NetlinkMessages, AddRoute) {
  const std::uint16_t create = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  Bytes want;
  header(want, 16 + 12 + 8 + 8 + 8, RTM_NEWROUTE, create, 9);
  want.insert(want.end(), {AF_INET, 16, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST});
  le32(want, 0);  // flags
  attr(want, RTA_DST, {10, 2, 0, 0});
  attr(want, RTA_OIF, {5, 0, 0, 0});
  attr(want, RTA_PREFSRC, {192, 0, 2, 1});
  EXPECT_EQ(add_route_message(9, 5, prefix("10.2.0.0/16"), IpAddress::parse("192.0.2.1")), want);

  // A default route has no RTA_DST; without a source, no RTA_PREFSRC.
  Bytes def;
  header(def, 16 + 12 + 8, RTM_NEWROUTE, create, 10);
  def.insert(def.end(), {AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST});
  le32(def, 0);
  attr(def, RTA_OIF, {5, 0, 0, 0});
  EXPECT_EQ(add_route_message(10, 5, prefix("0.0.0.0/0")), def);

  const Bytes v6 = add_route_message(11, 5, prefix("2001:db8:77::/48"));
  EXPECT_EQ(v6[16], AF_INET6);
  EXPECT_EQ(v6[17], 48);
  EXPECT_EQ(v6[22], RT_SCOPE_UNIVERSE) << "IPv6 routes have no link scope";
}

TEST(NetlinkMessages, GetLink) {
  Bytes want;
  header(want, 32, RTM_GETLINK, NLM_F_REQUEST, 2);
  want.insert(want.end(), {AF_UNSPEC, 0, 0, 0});
  le32(want, 33);
  le32(want, 0);
  le32(want, 0);
  EXPECT_EQ(get_link_message(2, 33), want);
}

TEST(NetlinkAnswers, Acknowledgements) {
  const auto ack = [](std::uint32_t seq, std::int32_t error) {
    Bytes b;
    header(b, 16 + 4 + 16, NLMSG_ERROR, 0, seq);
    le32(b, static_cast<std::uint32_t>(error));
    header(b, 16, RTM_NEWADDR, 0, seq);  // the request's header, echoed
    return b;
  };
  EXPECT_EQ(ack_error(ack(5, 0), 5), 0);
  EXPECT_EQ(ack_error(ack(5, -EEXIST), 5), EEXIST);
  EXPECT_EQ(ack_error(ack(5, -EPERM), 6), std::nullopt) << "another request's";
  Bytes two = ack(4, -EPERM);
  const Bytes second = ack(5, -ENODEV);
  two.insert(two.end(), second.begin(), second.end());
  EXPECT_EQ(ack_error(two, 5), ENODEV) << "the second message of a datagram";
  Bytes cut = ack(5, 0);
  cut.resize(18);
  EXPECT_EQ(ack_error(cut, 5), std::nullopt) << "truncated";
  Bytes lying = ack(5, 0);
  lying[0] = 200;  // nlmsg_len beyond the datagram
  EXPECT_EQ(ack_error(lying, 5), std::nullopt);
  EXPECT_EQ(ack_error({}, 5), std::nullopt);
}

TEST(NetlinkAnswers, LinkInfo) {
  Bytes body;
  body.insert(body.end(), {AF_UNSPEC, 0});
  le16(body, 1);  // ARPHRD_ETHER
  le32(body, 9);
  le32(body, IFF_UP | IFF_BROADCAST);
  le32(body, 0);
  attr(body, IFLA_IFNAME, {'c', 'o', 'r', 'r', 'i', 'd', 'o', 'r', '0', 0});
  attr(body, IFLA_MTU, {0xdc, 0x05, 0, 0});
  attr(body, IFLA_ADDRESS, {0x3e, 0x0c, 0x2e, 0x4c, 0x39, 0x2d});
  Bytes tun_data, link_info;
  attr(tun_data, IFLA_TUN_PERSIST, {0});
  attr(tun_data, IFLA_TUN_NUM_QUEUES, {1, 0, 0, 0});
  attr(link_info, IFLA_INFO_KIND, {'t', 'u', 'n', 0});
  attr(link_info, IFLA_INFO_DATA | NLA_F_NESTED, tun_data);
  attr(body, IFLA_LINKINFO | NLA_F_NESTED, link_info);
  attr(body, 9999, {1, 2, 3});  // an attribute this kernel's successor added
  Bytes msg;
  header(msg, static_cast<std::uint32_t>(16 + body.size()), RTM_NEWLINK, 0, 4);
  msg.insert(msg.end(), body.begin(), body.end());
  const auto link = parse_link(msg, 4);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->ifindex, 9);
  EXPECT_EQ(link->name, "corridor0");
  EXPECT_EQ(link->mtu, 1500u);
  EXPECT_TRUE(link->up);
  EXPECT_EQ(link->mac.to_string(), "3e:0c:2e:4c:39:2d");
  EXPECT_EQ(link->kind, "tun");
  EXPECT_EQ(link->tun_persist, false);
  EXPECT_EQ(link->tun_queues, 1u);
  EXPECT_FALSE(parse_link(msg, 5)) << "another request's";
  Bytes veth = msg;  // the same data under another kind is not tun's
  const auto kind_at = std::search(veth.begin(), veth.end(), std::begin("tun"), std::end("tun"));
  ASSERT_NE(kind_at, veth.end());
  std::copy_n("vet", 3, kind_at);
  const auto other = parse_link(veth, 4);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, "vet");
  EXPECT_FALSE(other->tun_queues);
  Bytes bad_nested = msg;
  const auto data_at = std::search(bad_nested.begin(), bad_nested.end(), tun_data.begin(), tun_data.end());
  ASSERT_NE(data_at, bad_nested.end());
  data_at[0] = 40;  // IFLA_TUN_PERSIST's length runs past its nest
  EXPECT_FALSE(parse_link(bad_nested, 4));
  Bytes bad = msg;
  bad[16 + 16] = 200;  // the first attribute's length runs past the message
  EXPECT_FALSE(parse_link(bad, 4));
  Bytes no_mac = msg;
  no_mac.resize(no_mac.size() - 8 - 12);  // without IFLA_ADDRESS
  no_mac[0] = static_cast<std::uint8_t>(no_mac.size());
  EXPECT_FALSE(parse_link(no_mac, 4));
}

// --- against the kernel ---

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command.c_str(), "r"), ::pclose);
  std::string out;
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p.get())) out += buf;
  return out;
}

// A TAP that lives as long as the object, in the test's own network namespace.
class LiveTap : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    // Everything below happens in a network namespace of this process's own.
    namespaced_ = ::unshare(CLONE_NEWNET) == 0;
  }
  void SetUp() override {
    if (!namespaced_) GTEST_SKIP() << "needs root (a network namespace of its own and a TAP)";
    fd_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;  // as net_tap creates it
    std::strcpy(ifr.ifr_name, "cortest0");
    ASSERT_EQ(::ioctl(fd_, TUNSETIFF, &ifr), 0) << std::strerror(errno);
    ifindex_ = static_cast<int>(::if_nametoindex("cortest0"));
    ASSERT_GT(ifindex_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);  // the TAP, not persistent, goes away
  }
  static inline bool namespaced_ = false;
  int fd_ = -1;
  int ifindex_ = 0;
};

TEST_F(LiveTap, ConfiguresTheLinkAddressesAndRoutes) {
  std::string error;
  auto nl = Socket::open(&error);
  ASSERT_TRUE(nl) << error;
  const auto before = nl->get_link(ifindex_, &error);
  ASSERT_TRUE(before) << error;
  EXPECT_EQ(before->name, "cortest0");
  EXPECT_FALSE(before->up);
  EXPECT_FALSE(before->mac.is_zero());
  EXPECT_EQ(before->kind, "tun");
  EXPECT_EQ(before->tun_persist, false);
  EXPECT_EQ(before->tun_queues, 1u) << "this test's file descriptor";
  ASSERT_EQ(::ioctl(fd_, TUNSETPERSIST, 1), 0) << std::strerror(errno);
  EXPECT_EQ(nl->get_link(ifindex_, &error)->tun_persist, true);
  ASSERT_EQ(::ioctl(fd_, TUNSETPERSIST, 0), 0) << std::strerror(errno);

  ASSERT_TRUE(nl->set_link(ifindex_, true, 1400, &error)) << error;
  EXPECT_EQ(nl->add_address(ifindex_, prefix("10.1.0.1/24"), &error), Socket::Result::done) << error;
  EXPECT_EQ(nl->add_address(ifindex_, prefix("192.0.2.1/24"), &error), Socket::Result::done) << error;
  EXPECT_EQ(nl->add_address(ifindex_, prefix("2001:db8::1/64"), &error), Socket::Result::done) << error;
  EXPECT_EQ(nl->add_address(ifindex_, prefix("10.1.0.1/24"), &error), Socket::Result::exists);
  EXPECT_EQ(nl->add_route(ifindex_, prefix("10.2.0.0/16"), IpAddress::parse("192.0.2.1"), &error),
            Socket::Result::done) << error;
  EXPECT_EQ(nl->add_route(ifindex_, prefix("0.0.0.0/0"), std::nullopt, &error), Socket::Result::done) << error;
  EXPECT_EQ(nl->add_route(ifindex_, prefix("2001:db8:77::/48"), std::nullopt, &error), Socket::Result::done) << error;
  EXPECT_EQ(nl->add_route(ifindex_, prefix("10.2.0.0/16"), std::nullopt, &error), Socket::Result::exists);
  // A source address the link does not have is the kernel's to refuse.
  EXPECT_EQ(nl->add_route(ifindex_, prefix("10.3.0.0/16"), IpAddress::parse("10.9.9.9"), &error),
            Socket::Result::failed);
  EXPECT_NE(error.find("cannot add route 10.3.0.0/16: "), std::string::npos) << error;
  EXPECT_EQ(nl->add_address(ifindex_ + 100, prefix("10.5.0.1/24"), &error), Socket::Result::failed);
  EXPECT_NE(error.find("No such device"), std::string::npos) << error;

  const auto after = nl->get_link(ifindex_, &error);
  ASSERT_TRUE(after) << error;
  EXPECT_TRUE(after->up);
  EXPECT_EQ(after->mtu, 1400u);
  EXPECT_EQ(after->mac, before->mac);

  // What iproute2 reads back.
  const auto link = nlohmann::json::parse(run("ip -j addr show dev cortest0"));
  ASSERT_EQ(link.size(), 1u);
  EXPECT_EQ(link[0]["mtu"], 1400);
  std::vector<std::string> addresses;
  for (const auto& a : link[0]["addr_info"])
    if (a["scope"] == "global") addresses.push_back(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.1.0.1/24", "192.0.2.1/24", "2001:db8::1/64"}));
  for (const auto& a : link[0]["addr_info"]) {
    if (a["scope"] == "global") {
      EXPECT_FALSE(a.contains("tentative")) << a.dump();
    }
  }
  const std::string routes = run("ip route show dev cortest0; ip -6 route show dev cortest0");
  EXPECT_NE(routes.find("10.2.0.0/16 proto static scope link src 192.0.2.1"), std::string::npos) << routes;
  EXPECT_NE(routes.find("default proto static scope link"), std::string::npos) << routes;
  EXPECT_NE(routes.find("2001:db8:77::/48 proto static"), std::string::npos) << routes;
  EXPECT_EQ(routes.find("10.3.0.0"), std::string::npos) << routes;
}

TEST_F(LiveTap, ChecksumOffloadIsTurnedOff) {
  std::string error;
  bool was_on = true;
  ASSERT_TRUE(ensure_tx_checksum_off("cortest0", &was_on, &error)) << error;
  EXPECT_FALSE(was_on) << "a TAP whose owner asked for no offload";
  // What net_tap would do if it wanted partial checksums.
  ASSERT_EQ(::ioctl(fd_, TUNSETOFFLOAD, TUN_F_CSUM), 0) << std::strerror(errno);
  ASSERT_NE(run("ethtool -k cortest0").find("tx-checksumming: on"), std::string::npos) << "the offload is on now";
  ASSERT_TRUE(ensure_tx_checksum_off("cortest0", &was_on, &error)) << error;
  EXPECT_TRUE(was_on);
  EXPECT_NE(run("ethtool -k cortest0").find("tx-checksumming: off"), std::string::npos);
  ASSERT_TRUE(ensure_tx_checksum_off("cortest0", &was_on, &error)) << error;
  EXPECT_FALSE(was_on);
  EXPECT_FALSE(ensure_tx_checksum_off("nosuchlink0", &was_on, &error));
  EXPECT_NE(error.find("nosuchlink0: cannot read TX checksum offload: No such device"), std::string::npos) << error;
}

}  // namespace
}  // namespace corridor::dataplane::net::netlink
