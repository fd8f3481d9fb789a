// Value syntaxes of the config: durations, counts, identities, secrets.
#include <gtest/gtest.h>

#include "common/config/duration.h"
#include "common/config/identity.h"
#include "common/config/secret.h"

namespace corridor::config {
namespace {

TEST(Duration, SwanctlSuffixes) {
  EXPECT_EQ(parse_duration("30s"), Seconds(30));
  EXPECT_EQ(parse_duration("15m"), Seconds(900));
  EXPECT_EQ(parse_duration("4h"), Seconds(14400));
  EXPECT_EQ(parse_duration("1d"), Seconds(86400));
  EXPECT_EQ(parse_duration("3600"), Seconds(3600));
  EXPECT_EQ(parse_duration("0"), Seconds(0));
  for (const char* bad : {"", "h", "1w", "-5s", "1.5h", " 1h", "1h ", "99999999999d"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Count, BinarySuffixes) {
  EXPECT_EQ(parse_count("1000"), 1000u);
  EXPECT_EQ(parse_count("4k"), 4096u);
  EXPECT_EQ(parse_count("2M"), 2u << 20);
  EXPECT_EQ(parse_count("4g"), 4ull << 30);
  EXPECT_FALSE(parse_count("4t"));
  EXPECT_FALSE(parse_count("99999999999999999999"));
  EXPECT_FALSE(parse_count("17179869184g"));  // overflows 64 bits
}

struct IdCase {
  const char* text;
  IdType type;
  const char* value;
};

TEST(Identity, StrongSwanForms) {
  const IdCase cases[] = {
      {"%any", IdType::any, "%any"},
      {"192.0.2.1", IdType::ipv4_addr, "192.0.2.1"},
      {"2001:db8::1", IdType::ipv6_addr, "2001:db8::1"},
      {"gw.example.com", IdType::fqdn, "gw.example.com"},
      {"@gw", IdType::fqdn, "gw"},
      {"@192.0.2.1", IdType::fqdn, "192.0.2.1"},
      {"vpn@example.com", IdType::rfc822_addr, "vpn@example.com"},
      {"@@vpn", IdType::rfc822_addr, "vpn"},
      {"C=CH, O=Corp, CN=gw", IdType::der_asn1_dn, "C=CH, O=Corp, CN=gw"},
      {"@#0A1b2C", IdType::key_id, "0a1b2c"},
      {"keyid:00ff", IdType::key_id, "00ff"},
      {"fqdn:10.0.0.1", IdType::fqdn, "10.0.0.1"},
      {"email:x@y", IdType::rfc822_addr, "x@y"},
      {"ipv4:10.0.0.1", IdType::ipv4_addr, "10.0.0.1"},
      {"ipv6:2001:db8::5", IdType::ipv6_addr, "2001:db8::5"},
      {"asn1dn:CN=x", IdType::der_asn1_dn, "CN=x"},
  };
  for (const auto& c : cases) {
    const auto id = Identity::parse(c.text);
    ASSERT_TRUE(id) << c.text;
    EXPECT_EQ(id->type, c.type) << c.text;
    EXPECT_EQ(id->value, c.value) << c.text;
  }
  EXPECT_EQ(Identity::parse("@#0A1b2C")->to_string(), "@#0a1b2c");
}

TEST(Identity, Errors) {
  std::string why;
  EXPECT_FALSE(Identity::parse("", &why));
  EXPECT_FALSE(Identity::parse("@#abc", &why));
  EXPECT_EQ(why, "key id must be an even number of hex digits: abc");
  EXPECT_FALSE(Identity::parse("ipv4:2001:db8::1", &why));
  EXPECT_EQ(why, "'2001:db8::1' is not an IPv4 address");
  EXPECT_FALSE(Identity::parse("C=CH, bogus", &why));
  EXPECT_EQ(why, "distinguished name part 'bogus' is not attribute=value");
  EXPECT_FALSE(Identity::parse("fqdn:", &why));
  EXPECT_FALSE(Identity::parse("@", &why));
}

std::string bytes_of(const SecretBytes& s) { return std::string(reinterpret_cast<const char*>(s.data()), s.size()); }

TEST(Secret, DecodesStrongSwanEncodings) {
  EXPECT_EQ(bytes_of(*decode_secret("plain text")), "plain text");
  EXPECT_EQ(bytes_of(*decode_secret("0x414243")), "ABC");
  EXPECT_EQ(bytes_of(*decode_secret("0sQUJD")), "ABC");
  EXPECT_EQ(bytes_of(*decode_secret("0sQUI=")), "AB");
  EXPECT_EQ(bytes_of(*decode_secret("0sQQ==")), "A");
  std::string why;
  EXPECT_FALSE(decode_secret("0x41424", &why));
  EXPECT_FALSE(decode_secret("0x41zz", &why));
  EXPECT_EQ(why.find("41zz"), std::string::npos) << "error must not echo the secret";
  EXPECT_FALSE(decode_secret("0sQU!D", &why));
  EXPECT_FALSE(decode_secret("0sQQ==QQ", &why));
  EXPECT_FALSE(decode_secret("0s", &why));
}

TEST(Secret, ComparesByContent) {
  const auto a = *decode_secret("0x00112233");
  const auto b = *decode_secret("0x00112233");
  const auto c = *decode_secret("0x00112234");
  const auto d = *decode_secret("0x001122");
  EXPECT_TRUE(a.equals(b));
  EXPECT_FALSE(a.equals(c));
  EXPECT_FALSE(a.equals(d));
  SecretBytes copy = a;
  EXPECT_TRUE(copy.equals(a));
  SecretBytes moved = std::move(copy);
  EXPECT_TRUE(moved.equals(a));
}

}  // namespace
}  // namespace corridor::config
