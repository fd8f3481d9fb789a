// The EAL command line of corridor-dataplane, derived from the config.
//
// An operator starts the dataplane as `corridor-dataplane [EAL args] --
// --config FILE`. Whatever the EAL arguments already say wins; what they
// leave out is filled in from the config's `dataplane` section: the lcores
// (-l, --main-lcore), one --vdev per virtual port, an allow-list entry (-a)
// per PCI port, and --no-pci when no port is a PCI device (so EAL does not
// probe, and perhaps grab, the machine's own NICs).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"

namespace corridor::dataplane {

std::vector<std::string> build_eal_args(const config::DataplaneConfig& config,
                                        const std::vector<std::string>& operator_args);

// The ethdev name EAL gives a configured port: the vdev's device name
// ("net_af_packet0" from "net_af_packet0,iface=eth1") or the PCI address
// with its domain ("0000:03:00.0").
std::string ethdev_name(const config::PortConfig& port);

}  // namespace corridor::dataplane
