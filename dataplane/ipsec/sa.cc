#include "dataplane/ipsec/sa.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "dataplane/ipsec/ah.h"
#include "dataplane/ipsec/esp.h"

namespace corridor::dataplane::ipsec {
namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

std::uint64_t limit(std::uint64_t v) { return v == 0 ? kUnlimited : v; }

}  // namespace

std::unique_ptr<Sa> Sa::create(const channel::SaRecord& record, crypto::Backend& backend, std::string* why) {
  auto fail = [&](std::string text) -> std::unique_ptr<Sa> {
    if (why) *why = std::move(text);
    return nullptr;
  };
  const bool ah = record.protocol == channel::IpsecProtocol::ah;
  std::string reason;
  std::optional<crypto::Algorithm> algorithm;
  if (ah) {
    if (record.encryption_id != 0 || record.encryption_key.length != 0) return fail("AH carries no encryption transform");
    // RFC 3948 encapsulates ESP only: AH covers the IP addresses a NAT rewrites.
    if (record.udp_encap) return fail("AH cannot be UDP-encapsulated (it does not cross NAT)");
    algorithm = crypto::ah_algorithm(record.integrity_id, &reason);
  } else {
    algorithm = crypto::esp_algorithm(record.encryption_id, record.encryption_key_bits, record.integrity_id, &reason);
  }
  if (!algorithm) return fail(reason);
  // ESP outbound writes its padding with one 16-byte store into the trailer
  // (esp_outbound.cc), which the ICV makes at least 18 bytes long.
  if (algorithm->icv_bytes < 16 || algorithm->block_bytes > 16) return fail("the engine needs an ICV of 16 bytes or more");

  std::unique_ptr<Sa> sa(new Sa());
  sa->session_ = backend.create_session(*algorithm, record.encryption_key.view(), record.integrity_key.view(), &reason);
  if (!sa->session_) return fail(reason);
  sa->summary_ = channel::summarize(record);

  RuntimeSa& rt = sa->runtime_;
  rt.session = sa->session_.get();
  rt.counters = &sa->counters_;
  rt.spi = record.spi;
  rt.iv_bytes = algorithm->iv_bytes;
  rt.icv_bytes = algorithm->icv_bytes;
  rt.block_bytes = algorithm->block_bytes;
  // The stages align with a mask (RFC 4303 §2.4: 4 bytes or the cipher block).
  if (rt.block_bytes < 4 || (rt.block_bytes & (rt.block_bytes - 1)) != 0) return fail("cipher block size is not a power of two");
  const bool tunnel = record.mode == channel::Mode::tunnel;
  const bool outer_v6 = record.ip_version == channel::IpVersion::v6;
  rt.flags = static_cast<std::uint8_t>((record.esn ? kEsn : 0) | (record.udp_encap ? kUdpEncap : 0) |
                                       (tunnel ? kTunnel : 0) | (outer_v6 ? kOuterV6 : 0) |
                                       (record.dscp_copy ? kDscpCopy : 0) | (record.ecn_propagate ? kEcnPropagate : 0) |
                                       (ah ? kAh : 0));
  rt.bytes_soft = limit(record.soft.bytes);
  rt.bytes_hard = limit(record.hard.bytes);
  rt.packets_soft = limit(record.soft.packets);
  rt.packets_hard = limit(record.hard.packets);
  std::memcpy(rt.outer_src, record.outer_src.data(), 16);
  std::memcpy(rt.outer_dst, record.outer_dst.data(), 16);
  rt.encap_sport = record.encap_src_port;
  rt.encap_dport = record.encap_dst_port;
  rt.df = record.df;

  if (record.direction == channel::Direction::inbound) {
    if (record.replay_window > ReplayWindow::kMaxWindow) return fail("replay window larger than the engine keeps");
    sa->replay_ = std::make_unique<ReplayWindow>(record.replay_window, record.esn);
    rt.replay = sa->replay_.get();
    rt.process = ah ? ah_inbound_fn(tunnel, outer_v6) : esp_inbound_fn(tunnel, outer_v6, record.udp_encap, *algorithm);
  } else {
    rt.process = ah ? ah_outbound_fn(tunnel, outer_v6) : esp_outbound_fn(tunnel, outer_v6, record.udp_encap, *algorithm);
  }
  return sa;
}

std::unique_ptr<tables::SelectorSet> Sa::set_selectors(tables::SelectorSet selectors) {
  auto previous = std::move(selectors_);
  selectors_ = selectors.empty() ? nullptr : std::make_unique<tables::SelectorSet>(std::move(selectors));
  std::atomic_ref<const tables::SelectorSet*>(runtime_.selectors).store(selectors_.get(), std::memory_order_release);
  return previous;
}

void Sa::continue_from(const Sa& old) {
  runtime_.seq = std::max(runtime_.seq, old.runtime_.seq);
  counters_ = old.counters_;
  runtime_.events.store(old.runtime_.events.load(std::memory_order_relaxed), std::memory_order_relaxed);
  if (replay_ && old.replay_) {
    if (replay_->window_size() == old.replay_->window_size() && replay_->esn() == old.replay_->esn()) {
      *replay_ = *old.replay_;
    } else if (old.replay_->highest() != 0) {
      // A new window size: the highest sequence number carries over (so
      // nothing older than the window is accepted again); its bits restart.
      replay_->update(old.replay_->highest());
    }
  }
}

}  // namespace corridor::dataplane::ipsec
