// Bringing the configured ports up and down: the DPDK device named in the
// config, one RX and one TX queue per forwarding lcore, the MTU, the MAC
// address the forwarding path writes as the source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config/model.h"
#include "dataplane/forward/forwarder.h"

struct rte_mempool;

namespace corridor::dataplane::app {

// Starts the port configured as `config` (index `index` in the config).
// nullopt with `error` naming the port and the DPDK reason.
std::optional<forward::Port> start_port(const config::PortConfig& config, std::uint16_t index, rte_mempool* pool,
                                        std::uint16_t rx_queues, std::uint16_t tx_queues, std::string* error);

// Stops and closes a started port (net_pcap writes its capture out here).
void stop_port(const forward::Port& port);

}  // namespace corridor::dataplane::app
