// corridorctl's Server-Sent Events parser against the WHATWG "event stream
// interpretation": line ends, comments, multi-line data, events split at
// every byte, and stopping mid-chunk.
#include "tools/corridorctl/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corridor::ctl {
namespace {

std::vector<std::string> parse(const std::vector<std::string>& chunks, std::size_t stop_after = 0) {
  EventStreamParser parser;
  std::vector<std::string> out;
  for (const auto& c : chunks) {
    const bool more = parser.feed(c, [&](const ServerEvent& e) {
      out.push_back(e.type + "|" + e.data);
      return stop_after == 0 || out.size() < stop_after;
    });
    if (!more) break;
  }
  return out;
}

const std::string kStream =
    ": corridor events\n\n"
    "event: ike-updown\ndata: {\"up\":true}\n\n"
    "event: log\r\ndata: first\r\ndata:second\r\n\r\n"  // CRLF; one leading space is dropped, none needed
    "event: child-updown\rdata: a\r\r"                  // lone CR
    "data: no type\n\n"                                 // "message"
    "event: nothing\n\n"                                // no data: not dispatched
    "id: 7\nretry: 10\nbogus: x\ndata: kept\n\n"        // fields for reconnection and unknown ones ignored
    "event: unfinished\ndata: never dispatched\n";      // no blank line before the end

const std::vector<std::string> kExpected{"ike-updown|{\"up\":true}", "log|first\nsecond", "child-updown|a",
                                         "message|no type", "message|kept"};

TEST(EventStreamParser, ReadsTheStandardsLineEndsAndFields) { EXPECT_EQ(parse({kStream}), kExpected); }

TEST(EventStreamParser, TheSameWhereverTheChunksBreak) {
  for (std::size_t size : {1u, 2u, 3u, 7u}) {
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < kStream.size(); i += size) chunks.push_back(kStream.substr(i, size));
    EXPECT_EQ(parse(chunks), kExpected) << "chunks of " << size;
  }
  // CR at the end of one chunk and LF at the start of the next: one line end.
  EXPECT_EQ(parse({"data: x\r", "\n\r", "\ndata: y\n\n"}), (std::vector<std::string>{"message|x", "message|y"}));
}

TEST(EventStreamParser, StopsAtTheEventTheCallerWanted) {
  EXPECT_EQ(parse({kStream}, 2), (std::vector<std::string>{kExpected[0], kExpected[1]}));
  EventStreamParser parser;
  int seen = 0;
  EXPECT_FALSE(parser.feed("data: 1\n\ndata: 2\n\n", [&](const ServerEvent&) { return ++seen < 1; }));
  EXPECT_EQ(seen, 1) << "the bytes after the event that stopped it are not read";
}

TEST(EventStreamParser, PendingCountsWhatIsHeld) {
  EventStreamParser parser;
  parser.feed("data: 0123456789\ndata: abc", [](const ServerEvent&) { return true; });
  EXPECT_GE(parser.pending(), 13u);
  parser.feed("\n\n", [](const ServerEvent&) { return true; });
  EXPECT_EQ(parser.pending(), 0u);
}

}  // namespace
}  // namespace corridor::ctl
