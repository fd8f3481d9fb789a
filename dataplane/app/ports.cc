#include "dataplane/app/ports.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>

#include "common/log/log.h"
#include "dataplane/eal_args.h"

namespace corridor::dataplane::app {
namespace {

constexpr std::uint16_t kRxDescriptors = 1024;
constexpr std::uint16_t kTxDescriptors = 1024;

std::string failed(const std::string& name, const char* what, int rc) {
  return "port " + name + ": " + what + " failed: " + rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

std::optional<forward::Port> start_port(const config::PortConfig& config, std::uint16_t index, rte_mempool* pool,
                                        std::uint16_t rx_queues, std::uint16_t tx_queues, std::string* error) {
  const std::string device = ethdev_name(config);
  std::uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(device.c_str(), &id) != 0) {
    *error = "port " + config.name + ": no DPDK device \"" + device +
             "\" (give it devargs in the config, or create it with --vdev / allow it with -a in the EAL arguments)";
    return std::nullopt;
  }
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
    *error = failed(config.name, "rte_eth_dev_info_get", rc);
    return std::nullopt;
  }
  if (rx_queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
    *error = "port " + config.name + ": " + std::to_string(rx_queues) + " RX / " + std::to_string(tx_queues) +
             " TX queues needed, the device has " + std::to_string(info.max_rx_queues) + " / " +
             std::to_string(info.max_tx_queues);
    return std::nullopt;
  }
  rte_eth_conf conf{};
  if (rx_queues > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
  }
  if (const int rc = rte_eth_dev_configure(id, rx_queues, tx_queues, &conf); rc != 0) {
    *error = failed(config.name, "rte_eth_dev_configure", rc);
    return std::nullopt;
  }
  std::uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) {
    *error = failed(config.name, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    return std::nullopt;
  }
  const int socket = rte_eth_dev_socket_id(id);
  for (std::uint16_t q = 0; q < rx_queues; ++q) {
    if (const int rc = rte_eth_rx_queue_setup(id, q, rxd, socket, nullptr, pool); rc != 0) {
      *error = failed(config.name, "rte_eth_rx_queue_setup", rc);
      return std::nullopt;
    }
  }
  for (std::uint16_t q = 0; q < tx_queues; ++q) {
    if (const int rc = rte_eth_tx_queue_setup(id, q, txd, socket, nullptr); rc != 0) {
      *error = failed(config.name, "rte_eth_tx_queue_setup", rc);
      return std::nullopt;
    }
  }
  // The MTU is the forwarding path's limit whatever the device says;
  // virtual devices often cannot set it, which is not an error.
  if (const int rc = rte_eth_dev_set_mtu(id, config.mtu); rc != 0 && rc != -ENOTSUP) {
    log::warning("port", config.name + ": cannot set MTU " + std::to_string(config.mtu) + ": " + rte_strerror(-rc));
  }
  if (config.mac) {
    rte_ether_addr mac{};
    std::memcpy(mac.addr_bytes, config.mac->data(), 6);
    if (const int rc = rte_eth_dev_default_mac_addr_set(id, &mac); rc != 0 && rc != -ENOTSUP) {
      *error = failed(config.name, "setting the MAC address", rc);
      return std::nullopt;
    }
  }
  if (const int rc = rte_eth_dev_start(id); rc != 0) {
    *error = failed(config.name, "rte_eth_dev_start", rc);
    return std::nullopt;
  }
  // Frames for the gateway's MAC and broadcasts are all it needs, but
  // af_packet/pcap/ring devices filter nothing anyway; a real NIC in
  // promiscuous mode would only cost filtering in software.
  forward::Port port;
  port.index = index;
  port.port_id = id;
  port.name = config.name;
  port.protected_side = config.role == config::PortRole::protected_side;
  port.mtu = config.mtu;
  port.addresses = config.addresses;
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  std::memcpy(port.mac.bytes.data(), mac.addr_bytes, 6);
  // Devices that cannot change their MAC (-ENOTSUP) still get the
  // configured one as the source the forwarding path writes and filters on.
  if (config.mac) std::memcpy(port.mac.bytes.data(), config.mac->data(), 6);
  log::info("port", config.name + " up: DPDK port " + std::to_string(id) + " (" + info.driver_name + "), MAC " +
                        port.mac.to_string() + ", " + (port.protected_side ? "protected" : "unprotected") + ", MTU " +
                        std::to_string(config.mtu));
  return port;
}

void stop_port(const forward::Port& port) {
  if (const int rc = rte_eth_dev_stop(port.port_id); rc != 0) {
    log::warning("port", port.name + ": stop failed: " + rte_strerror(-rc));
  }
  rte_eth_dev_close(port.port_id);
}

}  // namespace corridor::dataplane::app
