#include "quant/qparams_tensors.h"

#include <vector>

#include "quant/pack.h"

namespace qforge::quant {
namespace {

template <class T>
void store(const std::vector<int32_t>& v, T* dst) {
  for (size_t i = 0; i < v.size(); ++i) dst[i] = static_cast<T>(v[i]);
}

}  // namespace

QParamTensors qparams_to_tensors(const QParams& p, const Shape& x) {
  QF_CHECK(qformat_is_integer(p.format) || p.format == DType::nf4, "qparams_to_tensors: not a quantized format");
  QF_CHECK(p.num_scales() == p.expected_num_scales(x));
  QParamTensors t;
  const Shape shape = p.scale_shape(x);
  t.scale = Tensor(DType::f32, shape);
  std::copy(p.scale.begin(), p.scale.end(), t.scale.data<float>());
  if (p.axis != QParams::kPerTensor) t.axis = p.axis;
  t.block_size = p.group_size;
  if (p.format == DType::nf4) return t;
  QF_CHECK(p.zero_point.size() == p.scale.size());
  t.zero_point = Tensor(p.format, shape);
  switch (p.format) {
    case DType::s8: store(p.zero_point, t.zero_point.data<int8_t>()); break;
    case DType::u8: store(p.zero_point, t.zero_point.data<uint8_t>()); break;
    case DType::s16: store(p.zero_point, t.zero_point.data<int16_t>()); break;
    case DType::u16: store(p.zero_point, t.zero_point.data<uint16_t>()); break;
    default: {  // s4 / u4
      const std::vector<int8_t> codes(p.zero_point.begin(), p.zero_point.end());
      pack_4bit(codes.data(), static_cast<int64_t>(codes.size()), t.zero_point.data<uint8_t>());
    }
  }
  return t;
}

QParams qparams_from_tensors(DType format, const Tensor& scale, const Tensor* zero_point, int64_t axis,
                             int64_t block_size, const Shape& x, const std::string& name) {
  if (!qformat_is_integer(format))
    fail_input("bad quantization parameters for '{}': {} is not a quantized integer type", name, dtype_name(format));
  if (scale.dtype() != DType::f32)
    fail_input("bad quantization parameters for '{}': scale is {}, expected f32", name, dtype_name(scale.dtype()));
  if (zero_point && zero_point->dtype() != format)
    fail_input("bad quantization parameters for '{}': zero_point is {}, expected {}", name,
               dtype_name(zero_point->dtype()), dtype_name(format));
  if (zero_point && zero_point->shape() != scale.shape())
    fail_input("bad quantization parameters for '{}': zero_point shape {} differs from scale shape {}", name,
               shape_str(zero_point->shape()), shape_str(scale.shape()));
  if (block_size < 0) fail_input("bad quantization parameters for '{}': block_size {} is negative", name, block_size);
  const int rank = static_cast<int>(x.size());
  QParams p;
  p.format = format;
  const bool scalar = scale.rank() <= 1 && scale.numel() == 1;
  if (!scalar || block_size > 0) {
    if (axis < -rank || axis >= rank)
      fail_input("bad quantization parameters for '{}': axis {} out of range for shape {}", name, axis, shape_str(x));
    p.axis = static_cast<int>(axis < 0 ? axis + rank : axis);
    p.group_size = block_size;
  }
  if (scale.shape() != p.scale_shape(x) && !(scalar && p.axis == QParams::kPerTensor))
    fail_input("bad quantization parameters for '{}': scale shape {} does not fit x {} (axis {}, block_size {})", name,
               shape_str(scale.shape()), shape_str(x), axis, block_size);
  p.scale = scale.to_f32_vector();
  p.zero_point.assign(p.scale.size(), 0);
  if (zero_point)
    for (size_t i = 0; i < p.zero_point.size(); ++i) p.zero_point[i] = static_cast<int32_t>(zero_point->at_i64(i));
  check_qparams(p, x, name);
  return p;
}

}  // namespace qforge::quant
