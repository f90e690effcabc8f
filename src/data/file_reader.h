// Random access to a data file with pread, so datasets read one batch at a time instead of holding
// the whole file. Thread-safe: read_at() may run concurrently.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace qforge::data {

class FileReader {
 public:
  // InputError "<path>: <reason>" when the file cannot be opened or is not a regular file.
  explicit FileReader(std::string path);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Exactly n bytes at offset into dst; InputError when the file ends early (it changed since open).
  void read_at(uint64_t offset, size_t n, void* dst) const;
  std::string read_string(uint64_t offset, size_t n) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace qforge::data
