// NumPy .npy files (format versions 1.0–3.0): little-endian, C order. Read: f32, f64, u8, s8, s32,
// s64, bool, f16 (into the same dtype); Fortran order, big-endian and object arrays are refused with
// a clear InputError naming the file.
#pragma once
#include <string>

#include "core/tensor.h"

namespace qforge::data {

Tensor read_npy(const std::string& path);
Tensor parse_npy(std::string_view bytes, const std::string& name);
std::string serialize_npy(const Tensor& t);
void write_npy(const std::string& path, const Tensor& t);  // atomic write

}  // namespace qforge::data
