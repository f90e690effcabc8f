// The .npy preamble and header dict (format versions 1.0–3.0), shared by read_npy and the npy
// dataset, which streams the payload from disk instead of reading the file whole.
// Layout: "\x93NUMPY" major minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0), a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and
// '\n', then the C-order payload.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace qforge::data {

struct NpyHeader {
  DType dtype = DType::undefined;
  Shape shape;
  size_t data_offset = 0;  // bytes before the payload
  size_t itemsize = 0;
};

// Largest header dict accepted (numpy itself refuses more than 10000 bytes by default).
constexpr size_t kNpyMaxHeaderBytes = size_t{1} << 20;

// `bytes` holds at least the preamble and header (the rest of the file may follow). InputError
// "<name>: ..." on a bad magic, an unsupported version, dtype or order, or a malformed dict.
NpyHeader parse_npy_header(std::string_view bytes, const std::string& name);
// InputError unless payload_bytes is exactly what the header's shape and dtype need.
void check_npy_payload(const NpyHeader& h, uint64_t payload_bytes, const std::string& name);

}  // namespace qforge::data
