// Files the daemons rewrite while running (the config after PUT /config,
// the API token file): replaced whole, so that a reader, or the next start
// after a crash, finds the old file or the new one, never part of one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corridor::fs {

// Writes `text` to a temporary file beside `path` (mode 0600 from the
// start: these files hold secrets or their hashes), gives it the owner of
// the file it replaces and `mode`, or without one that file's mode, fsyncs it, renames it over `path` and
// fsyncs the directory; through a symlink, the file it points at is
// replaced. False with the reason in `why`; `path` is then
// untouched and no temporary file is left.
bool write_file_atomic(const std::string& path, std::string_view text, std::string* why,
                       std::optional<unsigned> mode = std::nullopt);

}  // namespace corridor::fs
