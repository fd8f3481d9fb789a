#include "common/channel/control_endpoint.h"

namespace corridor::channel {

Expected<ControlEndpoint> ControlEndpoint::attach(const EndpointOptions& options) {
  Expected<Endpoint> core = Endpoint::attach(Side::control, options);
  if (!core) return core.error();
  return ControlEndpoint(std::move(core).value());
}

}  // namespace corridor::channel
