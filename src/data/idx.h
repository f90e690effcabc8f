// IDX files (the MNIST format): magic 00 00 TYPE NDIMS, NDIMS big-endian u32 dims, then the
// elements in C order, big-endian. TYPE: 08 u8, 09 s8, 0B s16, 0C s32, 0D f32, 0E f64.
// Raw or gzip (detected by the 1f 8b magic). A raw file is read per batch with pread; a gzip file
// is inflated once into memory (its elements as stored, never as float).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/file_reader.h"

namespace qforge::data {

class IdxFile {
 public:
  // InputError "<path>: ..." on a bad magic or type, a truncated or over-long payload, or a
  // header claiming more elements than the file can hold (checked before allocating).
  explicit IdxFile(const std::string& path);

  const std::string& path() const { return path_; }
  const Shape& dims() const { return dims_; }
  int type() const { return type_; }
  int64_t count() const { return dims_[0]; }
  int64_t item_numel() const { return item_numel_; }
  // Items [first, first + n) along axis 0 converted to float32 (u8 scaled by 1/255 when scale_u8).
  void read_f32(int64_t first, int64_t n, float* dst, bool scale_u8) const;
  // Every element as int64 (labels).
  std::vector<int64_t> read_all_i64() const;

 private:
  void open_raw();
  void open_gzip();
  void parse_dims(const uint8_t* header, size_t header_size);
  void bytes_at(uint64_t offset, size_t n, uint8_t* dst) const;

  std::string path_;
  int type_ = 0;
  size_t elem_size_ = 0;
  Shape dims_;
  int64_t item_numel_ = 0;
  uint64_t payload_bytes_ = 0;
  std::unique_ptr<FileReader> raw_;  // raw file: payload at raw_offset_
  uint64_t raw_offset_ = 0;
  std::vector<uint8_t> inflated_;  // gzip: the payload
};

}  // namespace qforge::data
