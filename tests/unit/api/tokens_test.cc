// The API token store: token format, verification, the file's validation
// and reload, and corridorctl's create/revoke.
#include "control/api/tokens.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

namespace api = corridor::control::api;
using api::Scope;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned char b : digest) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

class Tokens : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corridor-tokens-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/api-tokens.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string create(Scope scope, std::string* id = nullptr) {
    std::string why;
    auto token = api::create_token(path_, scope, "test", &why, id);
    EXPECT_TRUE(token) << why;
    return token.value_or("");
  }
  api::TokenStore load() {
    std::string why;
    auto store = api::TokenStore::load(path_, &why);
    EXPECT_TRUE(store) << why;
    return std::move(store.value());
  }
  void write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  std::string load_error() {
    std::string why;
    EXPECT_FALSE(api::TokenStore::load(path_, &why));
    return why;
  }
  // A valid entry whose hash matches no token.
  static std::string entry(const std::string& id, const std::string& scope = "read") {
    return R"({"id": ")" + id + R"(", "scope": ")" + scope + R"(", "sha256": ")" + std::string(64, 'a') +
           R"(", "created": "2026-12-05T08:00:00Z", "comment": "ci"})";
  }

  std::string dir_;
  std::string path_;
};

TEST_F(Tokens, CreateThenVerify) {
  std::string id;
  const auto token = create(Scope::operate, &id);
  EXPECT_TRUE(std::regex_match(token, std::regex("crd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"))) << token.size();
  EXPECT_EQ(token.substr(4, 12), id);

  const auto store = load();
  ASSERT_EQ(store.entries().size(), 1u);
  const auto& e = store.entries()[0];
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.scope, Scope::operate);
  EXPECT_EQ(e.comment, "test");
  EXPECT_TRUE(std::regex_match(e.created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << e.created;

  const auto verified = store.verify(token);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->id, id);
  EXPECT_EQ(verified->scope, Scope::operate);

  // The file has the hash of the whole token text and never the secret.
  const auto text = read_all(path_);
  EXPECT_NE(text.find(sha256_hex(token)), std::string::npos);
  EXPECT_EQ(text.find(token.substr(17)), std::string::npos);
}

TEST_F(Tokens, EveryTokenIsDifferent) {
  std::string id1, id2;
  const auto t1 = create(Scope::read, &id1);
  const auto t2 = create(Scope::admin, &id2);
  EXPECT_NE(t1, t2);
  EXPECT_NE(id1, id2);
  const auto store = load();
  ASSERT_EQ(store.entries().size(), 2u);
  EXPECT_EQ(store.verify(t1)->scope, Scope::read);
  EXPECT_EQ(store.verify(t2)->scope, Scope::admin);
}

TEST_F(Tokens, WrongSecretIsRefused) {
  auto token = create(Scope::admin);
  const auto store = load();
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(store.verify(token));
}

TEST_F(Tokens, UnknownIdIsRefused) {
  auto token = create(Scope::admin);
  const auto store = load();
  token[4] = token[4] == '0' ? '1' : '0';
  EXPECT_FALSE(store.verify(token));
}

TEST_F(Tokens, MalformedTokensAreRefused) {
  const auto token = create(Scope::admin);
  const auto store = load();
  const auto id = token.substr(4, 12);
  const auto secret = token.substr(17);
  for (const std::string& bad : {
           std::string(),
           std::string("crd_"),
           "xyz_" + id + "_" + secret,            // wrong prefix
           id + "_" + secret,                     // no prefix
           "crd_" + id + "__" + secret,           // extra underscore
           "crd__" + id + "_" + secret.substr(1), // extra underscore, same length
           "crd_" + id + secret + "_",            // separator moved
           "crd_" + id + "_" + secret + "\n",     // trailing newline
           "Bearer " + token,
           "CRD_" + id + "_" + secret,
           "crd_" + std::string(12, 'G') + "_" + secret,
           "crd_" + id + "_" + secret.substr(0, 42) + "=",  // padding is not base64url
           token + std::string(1 << 20, 'A'),               // huge
       })
    EXPECT_FALSE(store.verify(bad)) << bad.substr(0, 80);
  EXPECT_TRUE(store.verify(token));
}

TEST_F(Tokens, ScopesAndWhatTheyAllow) {
  EXPECT_EQ(api::parse_scope("read"), Scope::read);
  EXPECT_EQ(api::parse_scope("operate"), Scope::operate);
  EXPECT_EQ(api::parse_scope("admin"), Scope::admin);
  for (const char* bad : {"", "Admin", "root", "read ", "write"}) EXPECT_FALSE(api::parse_scope(bad)) << bad;
  for (auto s : {Scope::read, Scope::operate, Scope::admin}) EXPECT_EQ(api::parse_scope(api::to_string(s)), s);

  EXPECT_TRUE(api::allows(Scope::read, Scope::read));
  EXPECT_FALSE(api::allows(Scope::read, Scope::operate));
  EXPECT_FALSE(api::allows(Scope::read, Scope::admin));
  EXPECT_TRUE(api::allows(Scope::operate, Scope::read));
  EXPECT_TRUE(api::allows(Scope::operate, Scope::operate));
  EXPECT_FALSE(api::allows(Scope::operate, Scope::admin));
  EXPECT_TRUE(api::allows(Scope::admin, Scope::read));
  EXPECT_TRUE(api::allows(Scope::admin, Scope::operate));
  EXPECT_TRUE(api::allows(Scope::admin, Scope::admin));
}

TEST_F(Tokens, RefreshPicksUpNewAndRevokedTokens) {
  std::string first_id;
  const auto first = create(Scope::read, &first_id);
  auto store = load();
  std::string why;
  EXPECT_TRUE(store.refresh(&why)) << why;  // unchanged

  const auto second = create(Scope::admin);
  EXPECT_FALSE(store.verify(second));
  EXPECT_TRUE(store.refresh(&why)) << why;
  EXPECT_TRUE(store.verify(second));
  EXPECT_TRUE(store.verify(first));

  ASSERT_TRUE(api::revoke_token(path_, first_id, &why)) << why;
  EXPECT_TRUE(store.verify(first));  // until the next refresh
  EXPECT_TRUE(store.refresh(&why)) << why;
  EXPECT_FALSE(store.verify(first));
  EXPECT_TRUE(store.verify(second));
  EXPECT_EQ(store.entries().size(), 1u);
}

TEST_F(Tokens, InvalidNewFileKeepsOldEntriesAndIsReportedOnce) {
  const auto token = create(Scope::operate);
  auto store = load();
  const auto valid = read_all(path_);

  write(R"({"tokens": [)" + entry("00000000000a") + ", " + entry("00000000000b", "x") + "]}");
  std::string why;
  EXPECT_FALSE(store.refresh(&why));
  EXPECT_EQ(why, path_ + ": tokens/1/scope: unknown scope 'x' (read, operate or admin)");
  EXPECT_TRUE(store.verify(token));
  EXPECT_EQ(store.entries().size(), 1u);
  why.clear();
  EXPECT_TRUE(store.refresh(&why));  // the same bad version: already reported
  EXPECT_TRUE(why.empty());

  std::filesystem::remove(path_);
  EXPECT_FALSE(store.refresh(&why));
  EXPECT_NE(why.find("cannot open"), std::string::npos) << why;
  EXPECT_TRUE(store.verify(token));

  write(valid);
  EXPECT_TRUE(store.refresh(&why)) << why;
  EXPECT_TRUE(store.verify(token));
}

TEST_F(Tokens, LoadReportsWhereTheFileIsWrong) {
  EXPECT_EQ(load_error().rfind(path_ + ": cannot open: ", 0), 0u);

  const std::pair<std::string, std::string> cases[] = {
      {"{", "invalid JSON: "},
      {"[]", "must be a JSON object"},
      {"{}", "tokens: missing"},
      {R"({"tokens": {}})", "tokens: must be an array"},
      {R"({"tokens": [], "extra": 1})", "extra: unknown key"},
      {R"({"tokens": [1]})", "tokens/0: must be an object"},
      {R"({"tokens": [{"id": "00000000000a", "scope": "read"}]})", "tokens/0/sha256: missing"},
      {R"({"tokens": [{"id": "00000000000A", "scope": "read", "sha256": ")" + std::string(64, 'a') + "\"}]}",
       "tokens/0/id: must be 12 lowercase hex characters"},
      {R"({"tokens": [{"id": "00000000000a", "scope": "read", "sha256": "abc"}]})",
       "tokens/0/sha256: must be 64 lowercase hex characters"},
      {R"({"tokens": [{"id": "00000000000a", "scope": 2, "sha256": "abc"}]})", "tokens/0/scope: must be a string"},
      {R"({"tokens": [)" + entry("00000000000a").replace(1, 0, R"("expires": "never", )") + "]}",
       "tokens/0/expires: unknown key"},
  };
  for (const auto& [text, expected] : cases) {
    write(text);
    const auto why = load_error();
    EXPECT_EQ(why.rfind(path_ + ": " + expected, 0), 0u) << text << "\n -> " << why;
  }
}

TEST_F(Tokens, DuplicateIdIsRejected) {
  write(R"({"tokens": [)" + entry("00000000000a") + ", " + entry("00000000000b") + ", " + entry("00000000000a") + "]}");
  EXPECT_EQ(load_error(), path_ + ": tokens/2/id: duplicate id '00000000000a' (also tokens/0/id)");
}

TEST_F(Tokens, FileIsPrivateAndCreatedIfMissing) {
  const auto old_mask = ::umask(0);  // mode must not depend on the caller's umask
  std::string id;
  create(Scope::read, &id);
  ::umask(old_mask);
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  ::chmod(path_.c_str(), 0644);  // revoke rewrites it private again
  std::string why;
  ASSERT_TRUE(api::revoke_token(path_, id, &why)) << why;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(load().entries().size(), 0u);
  // No temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()), 1);
}

TEST_F(Tokens, CreateAndRevokeRefuseWhatTheyCannotDo) {
  std::string why;
  EXPECT_FALSE(api::revoke_token(path_, "00000000000a", &why));  // no file
  EXPECT_NE(why.find("cannot open"), std::string::npos) << why;

  create(Scope::read);
  EXPECT_FALSE(api::revoke_token(path_, "00000000000a", &why));
  EXPECT_EQ(why, path_ + ": no token with id '00000000000a'");

  EXPECT_FALSE(api::create_token(path_, Scope::read, "two\nlines", &why));
  EXPECT_FALSE(api::create_token(path_, Scope::read, std::string(300, 'c'), &why));
  EXPECT_FALSE(api::create_token(path_, Scope::read, "\xff", &why));
  EXPECT_EQ(load().entries().size(), 1u);

  // A file it cannot understand is left alone, not overwritten.
  write("{broken");
  EXPECT_FALSE(api::create_token(path_, Scope::read, "", &why));
  EXPECT_EQ(why.rfind(path_ + ": invalid JSON", 0), 0u) << why;
  EXPECT_EQ(read_all(path_), "{broken");
  EXPECT_FALSE(api::create_token(dir_ + "/missing-dir/tokens.json", Scope::read, "", &why));
}

TEST_F(Tokens, WritesThroughASymlink) {
  const auto real = dir_ + "/real.json";
  create(Scope::read);
  std::filesystem::rename(path_, real);
  std::filesystem::create_symlink(real, path_);
  create(Scope::admin);
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_EQ(load().entries().size(), 2u);
}

}  // namespace
