// API bearer tokens: "crd_<id>_<secret>". The token file holds only the
// SHA-256 of each token, so reading it (or a backup of it) grants nothing;
// the secret exists once, in the output of `corridorctl token create`.
//
// The daemon keeps a TokenStore and calls refresh() per request, so a token
// created or revoked by corridorctl takes effect without a restart. Nothing
// here logs or formats a secret or a hash: errors name files, JSON paths and
// token ids only.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>

namespace corridor::control::api {

// Each scope includes the ones before it.
enum class Scope : std::uint8_t { read, operate, admin };

std::optional<Scope> parse_scope(std::string_view text);
std::string_view to_string(Scope scope);
bool allows(Scope have, Scope need);

struct TokenEntry {
  std::string id;                        // 12 lowercase hex characters
  Scope scope = Scope::read;
  std::array<std::uint8_t, 32> sha256{};  // of the full token text
  std::string created;                   // RFC 3339 UTC, as written by create_token
  std::string comment;
};

struct Verified {
  std::string id;
  Scope scope = Scope::read;
};

class TokenStore {
 public:
  // Reads and validates the file. On error: nullopt, and *why says where
  // ("FILE: tokens/2/scope: unknown scope 'x'").
  static std::optional<TokenStore> load(const std::string& path, std::string* why);

  // Re-reads the file if its (device, inode, size, mtime) changed since the
  // last call: one stat() when nothing changed. If the new version cannot be
  // read or is invalid (or the file is gone), the old entries stay and the
  // result is false with *why. That is reported once per bad version: later
  // calls see it unchanged and return true, so a per-request caller logs it
  // once, not per request.
  bool refresh(std::string* why);

  // The token's scope if it is in the store. A malformed token, an unknown id
  // or a wrong secret all give nullopt; an unknown id is still hashed and
  // compared (against a dummy) so the time taken does not reveal which ids
  // exist.
  std::optional<Verified> verify(std::string_view token) const;

  const std::vector<TokenEntry>& entries() const { return entries_; }
  const std::string& path() const { return path_; }

 private:
  // Identifies a version of the file. corridorctl replaces the file by
  // rename, so every write changes the inode; size and mtime (ns) catch
  // in-place edits.
  struct Stamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    timespec mtime{};
    bool operator==(const Stamp& other) const;
  };
  static Stamp stamp_of(const struct stat& st);

  std::string path_;
  std::vector<TokenEntry> entries_;
  Stamp seen_;  // the version last read, valid or not
};

// For corridorctl. Adds a new token to the file (created with mode 0600 if
// missing) and returns its text, which is not stored anywhere. The file is
// replaced atomically; concurrent callers on the same file are serialised.
std::optional<std::string> create_token(const std::string& path, Scope scope, std::string_view comment,
                                        std::string* why, std::string* id_out = nullptr);

// Removes the token with this id. False with *why if the file is invalid or
// has no such id.
bool revoke_token(const std::string& path, std::string_view id, std::string* why);

}  // namespace corridor::control::api
