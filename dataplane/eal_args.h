// The EAL command line of corridor-dataplane, derived from the config.
//
// An operator starts the dataplane as `corridor-dataplane [EAL args] --
// --config FILE`. Whatever the EAL arguments already say wins; what they
// leave out is filled in from the config's `dataplane` section: the lcores
// (-l, --main-lcore), `--vdev NAME,DEVARGS` per virtual port that has
// devargs, an allow-list entry (`-a NAME[,DEVARGS]`) per PCI port, the
// exception interface's TAP (`--vdev net_tap_corridor,iface=NAME`) when the
// config names one, and --no-pci when no port is a PCI device (so EAL does
// not probe, and perhaps grab, the machine's own NICs). A virtual port without devargs is the
// operator's to create (`--vdev net_ring0` among the EAL arguments).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/model.h"

namespace corridor::dataplane {

std::vector<std::string> build_eal_args(const config::DataplaneConfig& config,
                                        const std::vector<std::string>& operator_args);

// The ethdev name EAL gives a configured port: the vdev name as configured
// ("net_af_packet0"), or the PCI address with its domain and in lowercase,
// as EAL writes it ("0000:3b:00.0" for "3B:00.0").
std::string ethdev_name(const config::PortConfig& port);

}  // namespace corridor::dataplane
