// Fuzz target: the SA channel's validators on arbitrary bytes. They read
// memory that another process writes, so they must never crash, and:
//  - the input as ONE RING SLOT (first 256 bytes, zero-padded) goes through
//    decode_command and decode_event; a record either decodes or is refused
//    with a code (never ok-with-error); a decoded record re-encodes to
//    exactly the same 256 bytes (one encoding per record, so nothing a
//    validator ignored can hide in a slot) and passes validate() again;
//  - the input as a WHOLE SEGMENT IMAGE goes through validate_geometry and
//    validate_indices; when the geometry is accepted, a consumer drains the
//    image's command ring, whatever its indices say, without leaving it.
//
// Seeds (corpus/channel_record/): one valid slot per record type, a few
// refused ones, and a valid 12288-byte segment image (16-slot rings) with
// records queued, all written with the encoders of record_codec.h.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <variant>

#include "common/channel/record_codec.h"
#include "common/channel/ring_io.h"
#include "common/channel/segment.h"

namespace {

using namespace corridor::channel;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "channel_record_fuzz: %s\n", what);
  std::abort();
}

// Re-encodes a decoded command into a fresh slot.
void encode_command(const Command& c, RecordSlot& out) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          fail("decoded command without a body");
        } else if constexpr (std::is_same_v<T, SaRecord>) {
          if (validate(body).code != ResultCode::ok) fail("decoded SA does not validate");
          encode_sa(c.type, body, out);
        } else if constexpr (std::is_same_v<T, PolicyRecord>) {
          if (validate(body).code != ResultCode::ok) fail("decoded policy does not validate");
          encode(body, out);
        } else {
          encode(body, out);
        }
      },
      c.body);
  set_sequence(out, c.sequence);
}

void encode_event(const Event& e, RecordSlot& out) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, LifetimeExpired>) {
          encode_lifetime(e.type, body, out);
        } else {
          encode(body, out);
        }
      },
      e.body);
  set_sequence(out, e.sequence);
}

void check_slot(const std::uint8_t* data, std::size_t size) {
  RecordSlot slot{};
  std::memcpy(slot.bytes.data(), data, size < kRecordSize ? size : kRecordSize);
  RecordSlot again{};
  auto c = decode_command(slot);
  if (c.ok()) {
    encode_command(c.value(), again);
    if (again.bytes != slot.bytes) fail("command does not re-encode to the same bytes");
  } else if (c.error().code == ResultCode::ok) {
    fail("refused command without a code");
  }
  auto e = decode_event(slot);
  if (e.ok()) {
    if (c.ok()) fail("a record decoded as both command and event");
    encode_event(e.value(), again);
    if (again.bytes != slot.bytes) fail("event does not re-encode to the same bytes");
  } else if (e.error().code == ResultCode::ok) {
    fail("refused event without a code");
  }
  (void)check_header(slot, Ring::command);
  (void)check_header(slot, Ring::event);
}

void check_image(const std::uint8_t* data, std::size_t size) {
  // Shared memory is page-aligned; give the validators the same.
  const std::size_t alloc = (size + 4095) / 4096 * 4096;
  void* image = std::aligned_alloc(4096, alloc == 0 ? 4096 : alloc);
  if (image == nullptr) fail("out of memory");
  std::memset(image, 0, alloc == 0 ? 4096 : alloc);
  std::memcpy(image, data, size);
  const Status geometry = validate_geometry(image, size, "/fuzz");
  if (!geometry.ok() && geometry.error().message.empty()) fail("refusal without a message");
  if (geometry.ok()) {
    auto* header = std::launder(static_cast<SegmentHeader*>(image));
    const Status indices = validate_indices(*header, "/fuzz");
    if (!indices.ok() && indices.error().message.empty()) fail("refusal without a message");
    auto* slots = std::launder(reinterpret_cast<RecordSlot*>(
        static_cast<std::uint8_t*>(image) + header->geometry.command_slots_offset));
    SequencedConsumer consumer(header->command_producer, header->command_consumer, slots,
                               header->geometry.command_capacity);
    std::size_t total = 0;
    while (total <= header->geometry.command_capacity) {
      const std::size_t n = consumer.consume(64, [](RecordSlot& s, SequenceCheck) {
        (void)decode_command(s);
      });
      if (n == 0) break;
      total += n;
    }
    // No producer runs, so a sane ring yields at most `capacity` records
    // and an insane one (bogus indices) yields none.
    if (total > header->geometry.command_capacity) fail("consumed more than the ring holds");
  }
  std::free(image);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_slot(data, size);
  check_image(data, size);
  return 0;
}
