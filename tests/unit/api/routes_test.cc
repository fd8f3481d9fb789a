// The API's routing and its contract: the route table equals the OpenAPI
// document (docs/api/openapi.yaml, embedded), and the order of checks
// (401, 404, 405, 403, 400) holds for every route. Over Router::handle,
// without sockets; the real server is tested in tests/integration/api_test.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/config/loader.h"
#include "common/config/redact.h"
#include "common/log/log.h"
#include "control/api/api.h"
#include "control/api/openapi_document.h"
#include "control/api/views.h"

namespace corridor::control::api {
namespace {

using nlohmann::json;

const char* kConfig = R"({
  "connections": { "site": {
      "local_addrs": ["192.0.2.1"], "remote_addrs": ["198.51.100.2"],
      "local": { "auth": "psk", "id": "a.example.net" }, "remote": { "auth": "psk", "id": "b.example.net" },
      "children": { "net": { "local_ts": ["10.1.0.0/16"], "remote_ts": ["10.2.0.0/16"] } } } },
  "secrets": { "ike-site": { "id": ["a.example.net", "b.example.net"], "secret": "correct horse battery staple" } }
})";

class Routes : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("corridor-routes-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const auto file = (dir_ / "tokens.json").string();
    std::string why;
    read_ = *create_token(file, Scope::read, "", &why);
    operate_ = *create_token(file, Scope::operate, "", &why);
    admin_ = *create_token(file, Scope::admin, "", &why);
    loaded_ = config::load_config_text(kConfig);
    ASSERT_TRUE(loaded_.ok());
    store_ = std::make_unique<ConfigStore>((dir_ / "corridor.json").string(), loaded_.document, *loaded_.config);
    Sources s;
    s.config = store_.get();
    s.traffic = &ledger_;
    auto store = TokenStore::load(file, &why);
    ASSERT_TRUE(store) << why;
    api_ = std::make_unique<Api>(s, std::make_unique<TokenStore>(std::move(*store)));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Response call(http::verb method, std::string target, const std::string& token = "", std::string body = "",
                std::string type = "application/json") {
    Request r{method, target, 11};
    if (!token.empty()) r.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      r.set(http::field::content_type, type);
      r.body() = std::move(body);
      r.prepare_payload();
    }
    return api_->router().handle(r, peer_).response;
  }

  static json problem(const Response& r) {
    EXPECT_EQ(sv(r[http::field::content_type]), "application/problem+json");
    return json::parse(r.body());
  }

  std::filesystem::path dir_;
  std::string read_, operate_, admin_;
  config::LoadResult loaded_;
  std::unique_ptr<ConfigStore> store_;
  TrafficLedger ledger_;
  std::unique_ptr<Api> api_;
  net::SocketAddress peer_{*net::IpAddress::parse("127.0.0.1"), 40000};
};

TEST_F(Routes, RouteTableEqualsTheOpenApiDocument) {
  const json doc = json::parse(kOpenApiJson);
  ASSERT_TRUE(doc.at("openapi").get<std::string>().starts_with("3."));
  std::set<std::string> documented, served;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      std::string scope = op.value("x-corridor-scope", "?");
      std::set<std::string> query;
      for (auto p : op.value("parameters", json::array())) {
        if (p.contains("$ref")) p = doc.at(json::json_pointer(p["$ref"].get<std::string>().substr(1)));
        if (p.contains("in") && p["in"] == "query") query.insert(p["name"].get<std::string>());
      }
      std::string q;
      for (const auto& n : query) q += n + ",";
      documented.insert(method + " " + path + " " + scope + " " + q);
    }
  for (const auto& r : api_->router().routes()) {
    std::string method(sv(http::to_string(r.method)));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::set<std::string> query(r.query.begin(), r.query.end());
    std::string q;
    for (const auto& n : query) q += n + ",";
    served.insert(method + " " + r.pattern + " " + (r.scope ? std::string(to_string(*r.scope)) : "none") + " " + q);
  }
  EXPECT_EQ(documented, served);
}

TEST_F(Routes, EveryProtectedRouteNeedsAToken) {
  for (const auto& r : api_->router().routes()) {
    if (!r.scope) continue;
    std::string target = "/api/v1" + r.pattern;
    const auto res = call(r.method, target);
    EXPECT_EQ(res.result(), http::status::unauthorized) << target;
    EXPECT_EQ(sv(res[http::field::www_authenticate]), "Bearer realm=\"corridor\"");
    const auto forged = call(r.method, target, "crd_000000000000_forged");
    EXPECT_EQ(forged.result(), http::status::unauthorized) << target;
    EXPECT_EQ(sv(forged[http::field::www_authenticate]), "Bearer realm=\"corridor\", error=\"invalid_token\"");
  }
  // Nor does an unauthenticated client learn which paths exist.
  EXPECT_EQ(call(http::verb::get, "/api/v1/nothing-here").result(), http::status::unauthorized);
  EXPECT_EQ(call(http::verb::get, "/api/v1/health").result(), http::status::ok);
}

TEST_F(Routes, NotFoundMethodNotAllowedAndScope) {
  auto r = call(http::verb::get, "/api/v1/nothing-here", read_);
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(problem(r)["type"], "https://corridor.dev/problems/not-found");
  EXPECT_EQ(call(http::verb::get, "/elsewhere", read_).result(), http::status::not_found);
  EXPECT_EQ(call(http::verb::get, "/api/v10/health").result(), http::status::not_found);

  r = call(http::verb::put, "/api/v1/sas/1", admin_);
  EXPECT_EQ(r.result(), http::status::method_not_allowed);
  EXPECT_EQ(sv(r[http::field::allow]), "GET, DELETE");

  r = call(http::verb::delete_, "/api/v1/sas/1", read_);
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_NE(problem(r)["detail"].get<std::string>().find("needs 'operate'"), std::string::npos);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/logging", operate_, R"({"level":"info"})").result(),
            http::status::forbidden);
  // Operate includes read; without IKE running there is no SA 1.
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas/1", operate_).result(), http::status::not_found);
}

TEST_F(Routes, QueryParametersAreChecked) {
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?limit=10", read_).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?limit=0", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?limit=1001", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?limit=ten", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?cursor=x", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?bogus=1", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?limit=1&limit=2", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?version=3", read_).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::get, "/api/v1/sas?state=%zz", read_).result(), http::status::bad_request);
  const auto r = call(http::verb::get, "/api/v1/sas?connection=site&state=established", read_);
  EXPECT_EQ(json::parse(r.body()), (json{{"items", json::array()}, {"next_cursor", nullptr}}));
}

TEST_F(Routes, ConnectionsAndConfigNeverShowSecrets) {
  auto r = call(http::verb::get, "/api/v1/config", read_);
  ASSERT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(r.body().find("correct horse"), std::string::npos);
  EXPECT_EQ(json::parse(r.body())["secrets"]["ike-site"]["secret"], "<redacted>");
  r = call(http::verb::get, "/api/v1/connections/site", read_);
  ASSERT_EQ(r.result(), http::status::ok);
  const auto conn = json::parse(r.body());
  EXPECT_EQ(conn["name"], "site");
  EXPECT_EQ(conn["version"], 2);
  EXPECT_EQ(conn["children"][0]["name"], "net");
  EXPECT_EQ(call(http::verb::get, "/api/v1/connections/other", read_).result(), http::status::not_found);
  // Percent-encoded names are decoded before the lookup.
  EXPECT_EQ(call(http::verb::get, "/api/v1/connections/%73ite", read_).result(), http::status::ok);
  EXPECT_EQ(call(http::verb::post, "/api/v1/connections/site/children/nope/initiate", operate_).result(),
            http::status::not_found);
  // IKE is not running in this test: initiate is refused, not faked.
  EXPECT_EQ(call(http::verb::post, "/api/v1/connections/site/children/net/initiate", operate_).result(),
            http::status::conflict);
}

TEST_F(Routes, LoggingPatchAppliesWholeOrNotAtAll) {
  auto r = call(http::verb::patch, "/api/v1/logging", admin_, R"({"level":"loud","subsystems":{"ike":"debug"}})");
  ASSERT_EQ(r.result(), http::status::bad_request);
  const auto p = problem(r);
  EXPECT_EQ(p["type"], "https://corridor.dev/problems/validation");
  EXPECT_EQ(p["errors"][0]["pointer"], "/level");
  EXPECT_EQ(corridor::log::levels().subsystems.count("ike"), 0u);  // nothing applied

  r = call(http::verb::patch, "/api/v1/logging", admin_, R"({"subsystems":{"ike":"debug"}})");
  ASSERT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(json::parse(r.body())["subsystems"]["ike"], "debug");
  EXPECT_TRUE(corridor::log::enabled(corridor::log::Level::debug, "ike"));
  EXPECT_FALSE(corridor::log::enabled(corridor::log::Level::debug, "chan"));
  r = call(http::verb::patch, "/api/v1/logging", admin_, R"({"subsystems":{"ike":null}})");
  EXPECT_EQ(json::parse(r.body())["subsystems"], json::object());
  EXPECT_FALSE(corridor::log::enabled(corridor::log::Level::debug, "ike"));

  EXPECT_EQ(call(http::verb::patch, "/api/v1/logging", admin_, R"({"level":"info"})", "text/plain").result(),
            http::status::unsupported_media_type);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/logging", admin_, R"({"level":)").result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/logging", admin_, R"([1])").result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::patch, "/api/v1/logging", admin_, R"({"colour":"red"})").result(),
            http::status::bad_request);
}

TEST(Views, SpiParsingAndRedaction) {
  EXPECT_EQ(parse_spi("0xC1A2B3C4"), 0xc1a2b3c4u);
  EXPECT_EQ(parse_spi("c1a2b3c4"), 0xc1a2b3c4u);
  EXPECT_FALSE(parse_spi("0x"));
  EXPECT_FALSE(parse_spi("123456789"));
  EXPECT_FALSE(parse_spi("12g4"));
  EXPECT_EQ(spi_hex(0xc1a2b3c4u), "0xc1a2b3c4");
  const auto doc = nlohmann::ordered_json::parse(
      R"({"secrets":{"ike-x":{"secret":"s1"}},"dataplane":{"static_sas":[{"key":"0x00","integ_key":"0x01","spi":300}]},
          "api":{"tls":{"cert":"c.pem","key":"k.pem"}}})");
  const auto red = config::redact(doc).dump();
  EXPECT_EQ(red.find("s1"), std::string::npos);
  EXPECT_EQ(red.find("0x00"), std::string::npos);
  EXPECT_EQ(red.find("0x01"), std::string::npos);
  EXPECT_NE(red.find("300"), std::string::npos);
}

TEST(Views, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%2Fb", false), "a/b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%zz", false));
  EXPECT_FALSE(percent_decode("%00", false));
}

}  // namespace
}  // namespace corridor::control::api
