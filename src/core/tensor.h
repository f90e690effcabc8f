// A dense tensor: dtype + shape + a reference-counted, 64-byte aligned buffer. Copies share the
// buffer (like a shared_ptr); clone() makes a deep copy. Layout is row-major (C order); sub-byte
// types (s4/u4/nf4) pack two elements per byte, element 2i in the low nibble (ONNX order).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace qforge {

using Shape = std::vector<int64_t>;

// Product of dims; throws InputError naming `what` on a negative dim or int64 overflow.
int64_t shape_numel_checked(const Shape& shape, const std::string& what);
// Product of dims; precondition: dims are valid (already checked).
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1,3,224,224]"

class Tensor {
 public:
  Tensor() = default;
  // Allocates a zero-filled buffer.
  Tensor(DType dtype, Shape shape);
  // A tensor over an existing buffer of at least dtype_storage_bytes(dtype, numel) bytes (pools).
  static Tensor with_storage(DType dtype, Shape shape, std::shared_ptr<std::byte> storage);
  const std::shared_ptr<std::byte>& storage() const { return storage_; }
  // Wraps external memory without copying or owning it (caller keeps it alive).
  static Tensor view(DType dtype, Shape shape, void* data);
  // A scalar or 1-D tensor filled from values.
  template <typename T>
  static Tensor from_vector(DType dtype, Shape shape, const std::vector<T>& values);

  bool empty() const { return !storage_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return dtype_storage_bytes(dtype_, numel()); }

  void* raw() { return storage_ ? storage_.get() : nullptr; }
  const void* raw() const { return storage_ ? storage_.get() : nullptr; }
  template <typename T> T* data() { return static_cast<T*>(raw()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw()); }
  template <typename T> std::span<T> span() { return {data<T>(), static_cast<size_t>(numel())}; }
  template <typename T> std::span<const T> span() const { return {data<T>(), static_cast<size_t>(numel())}; }

  // Same buffer, new shape with equal element count.
  Tensor reshaped(Shape shape) const;
  Tensor clone() const;
  // Element i converted to double / int64 (for small tensors: shapes, axes, scalars).
  double at_f64(int64_t i) const;
  int64_t at_i64(int64_t i) const;
  std::vector<int64_t> to_i64_vector() const;
  std::vector<float> to_f32_vector() const;
  // Bytes equal, dtype and shape equal.
  bool bit_equal(const Tensor& other) const;

 private:
  DType dtype_ = DType::undefined;
  Shape shape_;
  std::shared_ptr<std::byte> storage_;
};

template <typename T>
Tensor Tensor::from_vector(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor t(dtype, std::move(shape));
  QF_CHECK(static_cast<int64_t>(values.size()) == t.numel());
  QF_CHECK(sizeof(T) * 8 == static_cast<size_t>(dtype_bits(dtype)));
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

// A zero-filled, 64-byte aligned buffer of at least `bytes` (rounded up to 64).
std::shared_ptr<std::byte> alloc_aligned(size_t bytes);

// IEEE half and bfloat16 conversions (round to nearest even).
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t b);

}  // namespace qforge
