// The commands that work on local files, without the API: `check` validates
// a config exactly as `corridor-control --check` does; `token` edits the
// token file the daemon re-reads on change.
#include <iomanip>
#include <iostream>

#include <openssl/crypto.h>

#include "common/config/loader.h"
#include "control/api/tokens.h"
#include "control/check.h"
#include "tools/corridorctl/cli.h"
#include "tools/corridorctl/render.h"  // Json

namespace corridor::ctl {

namespace {

namespace api = control::api;

int local_failure(const std::string& why) {
  std::cerr << "corridorctl: " << why << '\n';
  return kExitApiError;
}

}  // namespace

int cmd_check(Context& ctx) {
  const auto& path = ctx.args.operands[0];
  return control::report_check(config::load_config_file(path), path, std::cout);
}

int cmd_token_create(Context& ctx) {
  const auto& scope_text = ctx.args.require("--scope");
  const auto scope = api::parse_scope(scope_text);
  if (!scope) throw UsageError("unknown scope '" + scope_text + "' (read, operate or admin)");
  const auto& path = ctx.args.require("--tokens");
  const auto* comment = ctx.args.option("--comment");
  std::string why, id;
  auto token = api::create_token(path, *scope, comment ? *comment : "", &why, &id);
  if (!token) return local_failure(why);
  // Only the token on stdout, so `TOKEN=$(corridorctl token create ...)` works.
  std::cout << *token << '\n' << std::flush;
  OPENSSL_cleanse(token->data(), token->size());
  std::cerr << "corridorctl: token " << id << " (" << api::to_string(*scope)
            << ") created. It is shown only this once; " << path << " holds only its SHA-256 hash.\n";
  return kExitOk;
}

int cmd_token_list(Context& ctx) {
  const auto& path = ctx.args.require("--tokens");
  std::string why;
  const auto store = api::TokenStore::load(path, &why);
  if (!store) return local_failure(why);
  Json items = Json::array();
  for (const auto& e : store->entries())
    items.push_back({{"id", e.id}, {"scope", std::string(api::to_string(e.scope))}, {"created", e.created},
                     {"comment", e.comment}});
  if (ctx.args.json) {
    std::cout << Json{{"tokens", items}}.dump(2) << '\n';
    return kExitOk;
  }
  auto row = [](const std::string& id, std::string_view scope, const std::string& created, const std::string& comment) {
    std::cout << std::left << std::setw(12) << id << "  " << std::setw(7) << scope << "  " << std::setw(20)
              << (created.empty() ? "-" : created) << "  " << comment << '\n';
  };
  row("ID", "SCOPE", "CREATED", "COMMENT");
  for (const auto& e : store->entries()) row(e.id, api::to_string(e.scope), e.created, e.comment);
  return kExitOk;
}

int cmd_token_revoke(Context& ctx) {
  const auto& path = ctx.args.require("--tokens");
  const auto& id = ctx.args.operands[0];
  std::string why;
  if (!api::revoke_token(path, id, &why)) return local_failure(why);
  std::cout << "token " << id << " revoked; the daemon drops it when it next reads " << path << '\n';
  return kExitOk;
}

}  // namespace corridor::ctl
