// IKE identities between the config's text form (config::Identity, the
// way swanctl.conf writes them) and the ID payload (RFC 7296 §3.5).
//
// Distinguished names are DER-encoded X.501 Names on the wire; the text
// form is strongSwan's "C=CH, O=Corp, CN=gw". Both directions go through
// OpenSSL's X509_NAME so that a DN a peer sends compares equal to the same
// DN written in the config, whatever spacing the operator used.
#pragma once

#include <optional>
#include <string>

#include "common/config/identity.h"
#include "common/config/model.h"
#include "common/ike/message.h"

namespace corridor::control::ike {

// nullopt (and `why`) for %any, which is never sent, or a DN OpenSSL
// cannot encode.
std::optional<corridor::ike::Identification> to_wire(const config::Identity& id, std::string* why = nullptr);

// nullopt (and `why`) for ID types Corridor does not take (DER_ASN1_GN,
// FC_NAME, NULL) or malformed contents.
std::optional<config::Identity> from_wire(const corridor::ike::Identification& id, std::string* why = nullptr);

// True if `actual` is acceptable where the config says `pattern` (%any
// takes everything; otherwise type and value must be equal, FQDN and RFC
// 822 names compared without regard to case, DNs by their DER form).
bool matches(const config::Identity& pattern, const config::Identity& actual);

// The PSK for this pair of identities, the way strongSwan picks it: among
// the `ike-*` secrets, one listing both IDs beats one listing only the
// peer's, which beats one listing only ours, which beats one without IDs.
// nullptr if none applies.
const config::Secret* find_psk(const config::Config& config, const config::Identity& local,
                               const config::Identity& remote);

}  // namespace corridor::control::ike
