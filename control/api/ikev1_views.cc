#include "control/api/ikev1_views.h"

#include "control/api/views.h"

namespace corridor::control::api {

nlohmann::json ikev1_sa_json(const ikev1::IsakmpSaView& sa) {
  nlohmann::json j;
  j["id"] = sa.id;
  j["name"] = sa.name;
  j["connection"] = sa.connection;
  j["version"] = 1;
  j["state"] = sa.state;
  j["initiator"] = sa.initiator;
  j["local"] = sa.local;
  j["remote"] = sa.remote;
  j["cookie_i"] = sa.cookie_i;
  j["cookie_r"] = sa.cookie_r;
  j["proposal"] = sa.proposal;
  j["local_id"] = sa.local_id;
  j["remote_id"] = sa.remote_id;
  j["nat"] = {{"local", sa.nat_local}, {"remote", sa.nat_remote}};
  j["children"] = nlohmann::json::array();
  for (const auto& c : sa.children) {
    j["children"].push_back({{"name", c.name},
                             {"state", c.state},
                             {"spi_in", spi_hex(c.spi_in)},
                             {"spi_out", spi_hex(c.spi_out)},
                             {"sa_id_in", c.sa_id_in},
                             {"sa_id_out", c.sa_id_out},
                             {"proposal", c.proposal},
                             {"encapsulation", c.encap},
                             {"local_ts", c.local_ts},
                             {"remote_ts", c.remote_ts}});
  }
  j["quick_modes"] = sa.quick_modes;
  return j;
}

nlohmann::json ikev1_stats_json(const ikev1::ManagerStats& s) {
  return {{"received", s.received},
          {"sent", s.sent},
          {"retransmitted", s.retransmitted},
          {"duplicates", s.duplicates},
          {"phase1_established", s.phase1_established},
          {"phase1_failed", s.phase1_failed},
          {"quick_modes_failed", s.quick_modes_failed},
          {"ipsec_sas_installed", s.ipsec_sas_installed},
          {"ipsec_sas_deleted", s.ipsec_sas_deleted},
          {"drops", s.drops},
          {"notifies_sent", s.notifies_sent},
          {"notifies_received", s.notifies_received}};
}

}  // namespace corridor::control::api
