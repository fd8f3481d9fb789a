// The SA channel endpoint options the config's `sa_channel` section gives,
// the same for both processes (each passes them to its endpoint's attach()).
#pragma once

#include "common/channel/endpoint.h"
#include "common/config/model.h"

namespace corridor::config {

inline channel::EndpointOptions endpoint_options(const SaChannelConfig& c) {
  channel::EndpointOptions options;
  options.segment.name = c.name;
  options.segment.command_capacity = c.command_slots;
  options.segment.event_capacity = c.event_slots;
  return options;
}

}  // namespace corridor::config
