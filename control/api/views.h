// JSON views of the daemon's state, shared by the REST API and the
// daemon's --status file so both say the same thing in the same words
// (docs/api.md, "An IKE SA"). No view ever carries key material.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/channel/records.h"
#include "common/config/model.h"
#include "control/daemon/dataplane_stats.h"
#include "control/daemon/sa_sync.h"
#include "control/daemon/traffic_ledger.h"
#include "control/ikev1/manager.h"
#include "control/ikev2/manager.h"

namespace corridor::control::api {

using TrafficTable = TrafficLedger::Latest;

// "0xc1a2b3c4".
std::string spi_hex(std::uint32_t spi);
// "0xc1a2b3c4" or "c1a2b3c4" (case-insensitive) back to the SPI.
std::optional<std::uint32_t> parse_spi(std::string_view text);

// An IKE SA with its Child SAs; `traffic` (may be null) adds each Child
// SA's dataplane counters.
nlohmann::json ike_sa_json(const ikev2::IkeSaView& sa, ikev2::TimePoint now, const TrafficTable* traffic);
// An ISAKMP SA with its IPsec SAs, in the same shape (version 1, the MM_*
// and QM_* states, the cookies as spi_i/spi_r).
nlohmann::json ikev1_sa_json(const ikev1::IsakmpSaView& sa, ikev2::TimePoint now, const TrafficTable* traffic);
// Settles `ledger` against the SAs alive now (all of `ike`'s and `ikev1`'s;
// either may be null): each Child / IPsec SA's traffic goes to its
// connection's totals (TrafficLedger::settle).
void settle_traffic(TrafficLedger& ledger, const ikev2::Manager* ike, const ikev1::Manager* ikev1 = nullptr);
// "error", "warning", "info", "debug".
std::optional<config::LogLevel> parse_log_level(std::string_view text);
nlohmann::json ike_stats_json(const ikev2::ManagerStats& stats);
nlohmann::json ikev1_stats_json(const ikev1::ManagerStats& stats);
nlohmann::json traps_json(const ike::Traps& traps);
nlohmann::json sa_sync_json(const SaSync& sync, std::chrono::nanoseconds dataplane_timeout);
// The ports' and workers' counters as the dataplane last reported them,
// one item each (`age_seconds` says how old the report is); an empty list
// without a dataplane or before its first report. GET /dataplane/* and
// /stats serve the same lists.
nlohmann::json ports_json(const DataplaneStats* stats);
nlohmann::json workers_json(const DataplaneStats* stats);
// Forwarding drops of every worker by reason (ForwardDrop names), zeros left out.
nlohmann::json forward_drops_json(const DataplaneStats& stats);
// A configured connection: what the operator wrote (secrets redacted),
// children as a list with their names, plus the effective IKE version.
nlohmann::ordered_json connection_json(const config::ConnectionConfig& conn, const nlohmann::ordered_json* document);

}  // namespace corridor::control::api
