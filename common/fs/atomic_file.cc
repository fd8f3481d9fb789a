#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace corridor::fs {

namespace {

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

std::string errno_text(int error) { return std::strerror(error); }

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool write_file_atomic(const std::string& link_or_path, std::string_view text, std::string* why,
                       std::optional<unsigned> mode) {
  // Through a symlink, replace the file it points at, not the link.
  std::string path = link_or_path;
  if (char* real = ::realpath(link_or_path.c_str(), nullptr)) {
    path = real;
    std::free(real);
  }
  struct stat previous{};
  const bool replacing = ::stat(path.c_str(), &previous) == 0;
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());  // mode 0600 whatever the umask
  if (fd < 0) return fail(why, temp + ": cannot create: " + errno_text(errno));
  auto abandon = [&](const std::string& message) {
    ::close(fd);
    ::unlink(temp.c_str());
    return fail(why, message);
  };
  if (replacing) {
    // Keep the owner: `sudo corridorctl token create` must not leave a
    // root-owned file the daemon's user cannot read.
    struct stat now{};
    if (::fstat(fd, &now) != 0) return abandon(temp + ": cannot stat: " + errno_text(errno));
    if ((now.st_uid != previous.st_uid || now.st_gid != previous.st_gid) &&
        ::fchown(fd, previous.st_uid, previous.st_gid) != 0)
      return abandon(path + ": cannot keep its owner " + std::to_string(previous.st_uid) + ":" +
                     std::to_string(previous.st_gid) + " on the new file: " + errno_text(errno));
  }
  const unsigned new_mode = mode ? *mode : replacing ? (previous.st_mode & 07777) : 0600;
  if (::fchmod(fd, static_cast<mode_t>(new_mode)) != 0)
    return abandon(path + ": cannot set mode " + std::to_string(new_mode) + " on the new file: " + errno_text(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return abandon(temp + ": write failed: " + errno_text(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon(temp + ": fsync failed: " + errno_text(errno));
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return fail(why, temp + ": close failed: " + errno_text(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return fail(why, path + ": cannot replace: " + errno_text(error));
  }
  // The rename reaches the disk with the directory.
  const std::string dir = directory_of(path);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return fail(why, dir + ": cannot open to fsync: " + errno_text(errno));
  const bool synced = ::fsync(dir_fd) == 0;
  const int error = errno;
  ::close(dir_fd);
  if (!synced) return fail(why, dir + ": fsync failed: " + errno_text(error));
  return true;
}

}  // namespace corridor::fs
