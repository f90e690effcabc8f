// IDX files (the MNIST format): magic 00 00 TYPE NDIMS, NDIMS big-endian u32 dims, then the
// elements in C order, big-endian. TYPE: 08 u8, 09 s8, 0B s16, 0C s32, 0D f32, 0E f64.
// Raw or gzip (detected by the 1f 8b magic). A raw file is read per batch with pread. A gzip file
// is inflated into memory (its elements as stored, never as float) as far as the reads reach:
// - at open, the header is checked against the gzip trailer's ISIZE (total inflated bytes mod 2^32);
// - a file whose payload is under `inflate_all_below`, or whose trailer does not match (a truncated
//   or over-long file, several gzip members), is inflated whole at open, so every check runs there;
// - otherwise reads inflate only the prefix they need (in steps of kIdxInflateStep). A truncated or
//   corrupt stream is then reported by the read that reaches the damage, and the CRC and the end of
//   the stream (no data past the payload) are checked when a read reaches the last record.
// Reading 512 of the 60,000 Fashion-MNIST training images inflates ~1 MiB instead of 47 MB.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/file_reader.h"

namespace qforge::data {

constexpr uint64_t kIdxInflateAllBelow = uint64_t{4} << 20;
constexpr uint64_t kIdxInflateStep = uint64_t{1} << 20;

class GzStream;

class IdxFile {
 public:
  // InputError "<path>: ..." on a bad magic or type, a truncated or over-long payload, or a
  // header claiming more elements than the file can hold (checked before allocating). A lazily
  // inflated gzip file (above) reports damage past the header when a read reaches it.
  explicit IdxFile(const std::string& path, uint64_t inflate_all_below = kIdxInflateAllBelow);
  ~IdxFile();

  const std::string& path() const { return path_; }
  const Shape& dims() const { return dims_; }
  int type() const { return type_; }
  int64_t count() const { return dims_[0]; }
  int64_t item_numel() const { return item_numel_; }
  // Items [first, first + n) along axis 0 converted to float32 (u8 scaled by 1/255 when scale_u8).
  void read_f32(int64_t first, int64_t n, float* dst, bool scale_u8) const;
  // Every element as int64 (labels).
  std::vector<int64_t> read_all_i64() const;
  // Payload bytes inflated so far (gzip); the payload size for a raw file.
  uint64_t inflated_bytes() const;

 private:
  void open_raw();
  void open_gzip(uint64_t inflate_all_below);
  void parse_dims(const uint8_t* header, size_t header_size);
  // Inflates the gzip payload up to at least `end` bytes (the stream's end is checked on reaching
  // the payload's end). Caller holds mu_.
  void inflate_to(uint64_t end) const;
  // Calls f(src) with the payload bytes [offset, offset + n) (pread for raw, the inflated prefix
  // for gzip, under mu_).
  template <typename F>
  void with_bytes(uint64_t offset, size_t n, F&& f) const;

  std::string path_;
  int type_ = 0;
  size_t elem_size_ = 0;
  Shape dims_;
  int64_t item_numel_ = 0;
  uint64_t payload_bytes_ = 0;
  std::unique_ptr<FileReader> raw_;  // raw file: payload at raw_offset_
  uint64_t raw_offset_ = 0;
  // gzip: the inflated prefix of the payload, and the open stream until the payload is complete.
  mutable std::mutex mu_;
  mutable std::vector<uint8_t> inflated_;
  mutable std::unique_ptr<GzStream> gz_;
};

}  // namespace qforge::data
