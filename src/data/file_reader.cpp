#include "data/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace qforge::data {

FileReader::FileReader(std::string path) : path_(std::move(path)) {
  // O_NONBLOCK: a FIFO must not block the open; the regular-file check below refuses it.
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) fail_input("{}: cannot open: {}", path_, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail_input("{}: not a regular file", path_);
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

void FileReader::read_at(uint64_t offset, size_t n, void* dst) const {
  auto* p = static_cast<char*>(dst);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, p + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail_input("{}: read failed: {}", path_, std::strerror(errno));
    if (r == 0)
      fail_input("{}: unexpected end of file at byte {} (the file changed while it was in use?)", path_,
                 offset + got);
    got += static_cast<size_t>(r);
  }
}

std::string FileReader::read_string(uint64_t offset, size_t n) const {
  std::string s(n, '\0');
  read_at(offset, n, s.data());
  return s;
}

}  // namespace qforge::data
