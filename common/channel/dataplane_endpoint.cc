#include "common/channel/dataplane_endpoint.h"

namespace corridor::channel {

Expected<DataplaneEndpoint> DataplaneEndpoint::attach(const EndpointOptions& options) {
  Expected<Endpoint> core = Endpoint::attach(Side::dataplane, options);
  if (!core) return core.error();
  return DataplaneEndpoint(std::move(core).value());
}

}  // namespace corridor::channel
