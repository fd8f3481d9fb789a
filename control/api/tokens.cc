#include "control/api/tokens.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fs/atomic_file.h"
#include "common/time/utc_text.h"

namespace corridor::control::api {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kPrefix = "crd_";
constexpr std::size_t kIdBytes = 6;
constexpr std::size_t kIdChars = 2 * kIdBytes;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;  // base64url of 32 bytes, no padding
constexpr std::size_t kTokenChars = kPrefix.size() + kIdChars + 1 + kSecretChars;
// The daemon may re-read the file on any request; a bound keeps that cheap
// and is far above any real number of tokens (~200 bytes each).
constexpr off_t kMaxFileBytes = 1 << 20;
constexpr std::size_t kMaxCommentBytes = 256;

using Digest = std::array<std::uint8_t, 32>;

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_base64url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

Digest from_hex(std::string_view hex) {  // hex is 64 lowercase hex characters
  auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  Digest out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

// Writes into `out`, which the caller reserved, so no reallocation leaves a
// copy of the secret behind.
void append_base64url(const std::uint8_t* data, std::size_t size, std::string& out) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(v >> shift) & 0x3f];
  }
  if (const std::size_t rest = size - i; rest > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
    for (std::size_t k = 0; k <= rest; ++k) out += alphabet[(v >> (18 - 6 * k)) & 0x3f];
  }
}

bool sha256(std::string_view text, Digest& out) {
  unsigned int length = 0;
  return EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr) == 1 &&
         length == out.size();
}

bool fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

std::string errno_text(int error) { return std::strerror(error); }

struct FileRead {
  std::string text;
  struct stat st{};
};

// Opens, fstat()s and reads the same descriptor, so the stat matches the
// contents even if the file is replaced meanwhile. Sets errno_out on a
// system error (ENOENT matters to create_token).
bool read_file(const std::string& path, FileRead& out, std::string* why, int* errno_out = nullptr) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (errno_out) *errno_out = error;
    return fail(why, path + ": cannot open: " + errno_text(error));
  }
  bool ok = false;
  if (::fstat(fd, &out.st) != 0) {
    fail(why, path + ": cannot stat: " + errno_text(errno));
  } else if (!S_ISREG(out.st.st_mode)) {
    fail(why, path + ": not a regular file");
  } else if (out.st.st_size > kMaxFileBytes) {
    fail(why, path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes");
  } else {
    out.text.resize(static_cast<std::size_t>(out.st.st_size));
    std::size_t done = 0;
    ok = true;
    while (done < out.text.size()) {
      const ssize_t n = ::read(fd, out.text.data() + done, out.text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // a concurrent in-place truncation: treat as unreadable this time
        ok = fail(why, path + ": read failed: " + (n < 0 ? errno_text(errno) : "file shrank while reading"));
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

// Validates the whole document; the first problem is reported as
// "FILE: tokens/2/scope: unknown scope 'x'". Unknown keys are errors: a
// future field such as an expiry must not be silently ignored by an older
// daemon.
std::optional<std::vector<TokenEntry>> parse_tokens(std::string_view text, const std::string& path,
                                                    std::string* why) {
  auto error = [&](const std::string& where, const std::string& message) -> std::optional<std::vector<TokenEntry>> {
    fail(why, path + ": " + (where.empty() ? "" : where + ": ") + message);
    return std::nullopt;
  };
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep line/column.
    std::string what = e.what();
    if (const auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    return error("", "invalid JSON: " + what);
  }
  if (!doc.is_object()) return error("", "must be a JSON object {\"tokens\": [...]}");
  for (const auto& item : doc.items())
    if (item.key() != "tokens") return error(item.key(), "unknown key");
  const auto list = doc.find("tokens");
  if (list == doc.end()) return error("tokens", "missing");
  if (!list->is_array()) return error("tokens", "must be an array");

  std::vector<TokenEntry> entries;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    const std::string at = "tokens/" + std::to_string(i);
    if (!item.is_object()) return error(at, "must be an object");
    for (const auto& field : item.items()) {
      const auto& k = field.key();
      if (k != "id" && k != "scope" && k != "sha256" && k != "created" && k != "comment")
        return error(at + "/" + k, "unknown key");
      if (!field.value().is_string()) return error(at + "/" + k, "must be a string");
    }
    for (const char* required : {"id", "scope", "sha256"})
      if (!item.contains(required)) return error(at + "/" + required, "missing");

    TokenEntry entry;
    entry.id = item["id"].get<std::string>();
    if (entry.id.size() != kIdChars || !is_lower_hex(entry.id))
      return error(at + "/id", "must be " + std::to_string(kIdChars) + " lowercase hex characters");
    for (std::size_t j = 0; j < entries.size(); ++j)
      if (entries[j].id == entry.id)
        return error(at + "/id", "duplicate id '" + entry.id + "' (also tokens/" + std::to_string(j) + "/id)");
    const auto scope_text = item["scope"].get<std::string>();
    const auto scope = parse_scope(scope_text);
    if (!scope) return error(at + "/scope", "unknown scope '" + scope_text + "' (read, operate or admin)");
    entry.scope = *scope;
    // The value is not echoed: hashes stay out of every message.
    const auto& hash = item["sha256"].get_ref<const std::string&>();
    if (hash.size() != 2 * entry.sha256.size() || !is_lower_hex(hash))
      return error(at + "/sha256", "must be 64 lowercase hex characters");
    entry.sha256 = from_hex(hash);
    if (item.contains("created")) entry.created = item["created"].get<std::string>();
    if (item.contains("comment")) entry.comment = item["comment"].get<std::string>();
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string serialize(const std::vector<TokenEntry>& entries) {
  Json list = Json::array();
  for (const auto& e : entries)
    list.push_back(Json{{"id", e.id},
                        {"scope", std::string(to_string(e.scope))},
                        {"sha256", to_hex(e.sha256.data(), e.sha256.size())},
                        {"created", e.created},
                        {"comment", e.comment}});
  return Json{{"tokens", std::move(list)}}.dump(2) + "\n";
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Holds an exclusive flock on the file's directory, so two corridorctl runs
// cannot both read the old list and lose one's update on rename. The lock is
// on the directory because the file itself is replaced.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    error_ = fd_ < 0 ? errno : 0;
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      error_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // also releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  int fd() const { return fd_; }
  int error() const { return error_; }  // errno of the failed open or flock

 private:
  int fd_;
  int error_;
};

// A read-modify-write of the token file under the directory lock. `change`
// edits the entries (or fails with *why). A missing file counts as empty
// only if `create` is set.
template <typename Change>
bool update_file(const std::string& path, bool create, std::string* why, Change change) {
  // Through a symlink, replace the file it points at, not the link.
  std::string target = path;
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    target = real;
    std::free(real);
  }
  const std::string dir = directory_of(target);
  DirLock lock(dir);
  if (lock.fd() < 0) return fail(why, dir + ": cannot open and lock: " + errno_text(lock.error()));

  FileRead file;
  int read_errno = 0;
  std::vector<TokenEntry> entries;
  const bool exists = read_file(target, file, why, &read_errno);
  if (exists) {
    auto parsed = parse_tokens(file.text, path, why);
    if (!parsed) return false;  // never overwrite a file we could not understand
    entries = std::move(*parsed);
  } else if (!(create && read_errno == ENOENT)) {
    return false;
  }
  if (!change(entries)) return false;
  // Always private, whatever the old file's mode was.
  return fs::write_file_atomic(target, serialize(entries), why, 0600);
}

std::string utc_now() { return timefmt::utc_text(std::chrono::system_clock::now()); }

}  // namespace

std::optional<Scope> parse_scope(std::string_view text) {
  if (text == "read") return Scope::read;
  if (text == "operate") return Scope::operate;
  if (text == "admin") return Scope::admin;
  return std::nullopt;
}

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::read: return "read";
    case Scope::operate: return "operate";
    case Scope::admin: return "admin";
  }
  return "?";
}

bool allows(Scope have, Scope need) { return static_cast<int>(have) >= static_cast<int>(need); }

bool TokenStore::Stamp::operator==(const Stamp& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
}

TokenStore::Stamp TokenStore::stamp_of(const struct stat& st) {
  Stamp s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

std::optional<TokenStore> TokenStore::load(const std::string& path, std::string* why) {
  FileRead file;
  if (!read_file(path, file, why)) return std::nullopt;
  auto entries = parse_tokens(file.text, path, why);
  if (!entries) return std::nullopt;
  TokenStore store;
  store.path_ = path;
  store.entries_ = std::move(*entries);
  store.seen_ = stamp_of(file.st);
  return store;
}

bool TokenStore::refresh(std::string* why) {
  struct stat st{};
  // A missing file keeps the default stamp, so its absence is reported
  // once, like any other bad version of the file.
  const Stamp now = ::stat(path_.c_str(), &st) == 0 ? stamp_of(st) : Stamp{};
  if (now == seen_) return true;
  FileRead file;
  std::optional<std::vector<TokenEntry>> entries;
  if (read_file(path_, file, why)) entries = parse_tokens(file.text, path_, why);
  if (!entries) {
    // The stamp from stat(), not from the failed read: an unchanged bad file
    // is not re-read on every call.
    seen_ = now;
    return false;
  }
  entries_ = std::move(*entries);
  seen_ = stamp_of(file.st);
  return true;
}

std::optional<Verified> TokenStore::verify(std::string_view token) const {
  // The format is public, so rejecting a malformed token early reveals nothing.
  if (token.size() != kTokenChars || token.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const auto id = token.substr(kPrefix.size(), kIdChars);
  const auto secret = token.substr(kPrefix.size() + kIdChars + 1);
  if (token[kPrefix.size() + kIdChars] != '_' || !is_lower_hex(id) || !is_base64url(secret)) return std::nullopt;

  const TokenEntry* found = nullptr;
  for (const auto& e : entries_)
    if (e.id == id) found = &e;  // ids are unique (checked on load)
  static const Digest dummy{};
  Digest digest{};
  bool match = sha256(token, digest) && CRYPTO_memcmp(digest.data(), (found ? found->sha256 : dummy).data(),
                                                      digest.size()) == 0;
  OPENSSL_cleanse(digest.data(), digest.size());
  if (!match || !found) return std::nullopt;
  return Verified{found->id, found->scope};
}

std::optional<std::string> create_token(const std::string& path, Scope scope, std::string_view comment,
                                        std::string* why, std::string* id_out) {
  if (comment.size() > kMaxCommentBytes) {
    fail(why, "comment longer than " + std::to_string(kMaxCommentBytes) + " bytes");
    return std::nullopt;
  }
  // Control characters would break `token list` and log lines.
  if (std::any_of(comment.begin(), comment.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    fail(why, "comment contains control characters");
    return std::nullopt;
  }
  try {
    (void)Json(std::string(comment)).dump();
  } catch (const Json::exception&) {
    fail(why, "comment is not valid UTF-8");
    return std::nullopt;
  }

  std::string token;
  token.reserve(kTokenChars);
  std::string id;
  const bool ok = update_file(path, true, why, [&](std::vector<TokenEntry>& entries) {
    std::array<std::uint8_t, kSecretBytes> random{};
    do {
      if (RAND_bytes(random.data(), static_cast<int>(kIdBytes)) != 1) return fail(why, "RAND_bytes failed");
      id = to_hex(random.data(), kIdBytes);
    } while (std::any_of(entries.begin(), entries.end(), [&](const TokenEntry& e) { return e.id == id; }));
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return fail(why, "RAND_bytes failed");
    token.append(kPrefix).append(id).append(1, '_');
    append_base64url(random.data(), random.size(), token);
    OPENSSL_cleanse(random.data(), random.size());

    TokenEntry entry;
    entry.id = id;
    entry.scope = scope;
    if (!sha256(token, entry.sha256)) return fail(why, "SHA-256 failed");
    entry.created = utc_now();
    entry.comment = std::string(comment);
    entries.push_back(std::move(entry));
    return true;
  });
  if (!ok) {
    OPENSSL_cleanse(token.data(), token.size());
    return std::nullopt;
  }
  if (id_out) *id_out = id;
  return token;
}

bool revoke_token(const std::string& path, std::string_view id, std::string* why) {
  return update_file(path, false, why, [&](std::vector<TokenEntry>& entries) {
    const auto it = std::find_if(entries.begin(), entries.end(), [&](const TokenEntry& e) { return e.id == id; });
    if (it == entries.end()) return fail(why, path + ": no token with id '" + std::string(id) + "'");
    entries.erase(it);
    return true;
  });
}

}  // namespace corridor::control::api
