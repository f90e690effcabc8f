#include "runtime/ops/conv_attrs.h"

#include <climits>

#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

namespace {

std::vector<int64_t> ints_of_len(const ir::Node& node, const char* name, size_t len, int64_t dflt,
                                 int64_t min_value) {
  std::vector<int64_t> v = node.attr_ints(name, std::vector<int64_t>(len, dflt));
  if (v.size() != len) fail_node(node, "{} has {} values, expected {}", name, v.size(), len);
  for (int64_t x : v) {
    if (x < min_value) fail_node(node, "{} value {} is below {}", name, x, min_value);
    // Bounded so that the window arithmetic below stays inside int64: span = (k - 1)·d + 1 < 2^62.
    if (x > INT32_MAX) fail_node(node, "{} value {} is larger than {}", name, x, INT32_MAX);
  }
  return v;
}

// Sums and products of sizes read from the model (input dims can be declared up to 2^63 - 1).
int64_t add_checked(const ir::Node& node, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail_node(node, "window size arithmetic overflows int64 ({} + {})", a, b);
  return r;
}
int64_t sub_checked(const ir::Node& node, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) fail_node(node, "window size arithmetic overflows int64 ({} - {})", a, b);
  return r;
}
int64_t mul_checked(const ir::Node& node, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail_node(node, "window size arithmetic overflows int64 ({} * {})", a, b);
  return r;
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

}  // namespace

WindowAttrs read_window_attrs(const ir::Node& node, int nd, const std::vector<int64_t>& kernel_from_w) {
  WindowAttrs a;
  a.nd = nd;
  const size_t n = static_cast<size_t>(nd);
  if (node.has_attr("kernel_shape")) {
    a.kernel = ints_of_len(node, "kernel_shape", n, 1, 1);
    for (size_t i = 0; i < kernel_from_w.size(); ++i)
      if (kernel_from_w[i] >= 0 && kernel_from_w[i] != a.kernel[i])
        fail_node(node, "kernel_shape[{}] is {} but the weight has {}", i, a.kernel[i], kernel_from_w[i]);
  } else if (kernel_from_w.empty()) {
    fail_node(node, "attribute kernel_shape is required");
  } else {
    a.kernel = kernel_from_w;
  }
  a.strides = ints_of_len(node, "strides", n, 1, 1);
  a.dilations = ints_of_len(node, "dilations", n, 1, 1);
  const std::string ap = node.attr_s("auto_pad", "NOTSET");
  if (ap == "NOTSET") a.auto_pad = AutoPad::notset;
  else if (ap == "SAME_UPPER") a.auto_pad = AutoPad::same_upper;
  else if (ap == "SAME_LOWER") a.auto_pad = AutoPad::same_lower;
  else if (ap == "VALID") a.auto_pad = AutoPad::valid;
  else fail_node(node, "auto_pad '{}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", ap);
  // ConvTranspose may carry negative pads through output_shape only; explicit pads are >= 0.
  a.pads = ints_of_len(node, "pads", 2 * n, 0, 0);
  a.ceil_mode = node.attr_i("ceil_mode", 0) != 0;
  return a;
}

AxisWindow conv_axis(const ir::Node& node, const WindowAttrs& a, int i, int64_t in) {
  const int64_t k = a.kernel[i], s = a.strides[i], d = a.dilations[i];
  const int64_t span = (k - 1) * d + 1;
  AxisWindow w;
  switch (a.auto_pad) {
    case AutoPad::notset: {
      w.pad_begin = a.pads[i];
      w.pad_end = a.pads[i + a.nd];
      const int64_t room = add_checked(node, add_checked(node, in, w.pad_begin), w.pad_end) - span;
      if (room < 0) break;
      if (a.ceil_mode) {
        w.out = ceil_div(room, s) + 1;
        // A window that would start in the end padding is dropped.
        if ((w.out - 1) * s >= in + w.pad_begin) --w.out;
      } else {
        w.out = room / s + 1;
      }
      break;
    }
    case AutoPad::valid:
      w.out = in - span < 0 ? 0 : (a.ceil_mode ? ceil_div(in - span + 1, s) : (in - span) / s + 1);
      break;
    case AutoPad::same_upper:
    case AutoPad::same_lower: {
      w.out = ceil_div(in, s);
      const int64_t total = std::max<int64_t>(0, add_checked(node, (w.out - 1) * s, span) - in);
      w.pad_begin = a.auto_pad == AutoPad::same_upper ? total / 2 : total - total / 2;
      w.pad_end = total - w.pad_begin;
      break;
    }
  }
  if (w.out < 1)
    fail_node(node, "spatial axis {} of size {} is too small for a window of {} (after padding)", i, in, span);
  return w;
}

AxisWindow conv_transpose_axis(const ir::Node& node, const WindowAttrs& a, int i, int64_t in) {
  const int64_t k = a.kernel[i], s = a.strides[i], d = a.dilations[i];
  const int64_t span = (k - 1) * d + 1;
  const std::vector<int64_t> op = node.attr_ints("output_padding", std::vector<int64_t>(a.nd, 0));
  if (op.size() != static_cast<size_t>(a.nd))
    fail_node(node, "output_padding has {} values, expected {}", op.size(), a.nd);
  const int64_t natural = add_checked(node, add_checked(node, mul_checked(node, s, in - 1), op[i]), span);
  std::vector<int64_t> os = node.attr_ints("output_shape");
  if (os.size() == static_cast<size_t>(a.nd) + 2) os.erase(os.begin(), os.begin() + 2);
  if (!os.empty() && os.size() != static_cast<size_t>(a.nd))
    fail_node(node, "output_shape has {} values, expected {}", os.size(), a.nd);
  AxisWindow w;
  if (!os.empty() || a.auto_pad == AutoPad::same_upper || a.auto_pad == AutoPad::same_lower) {
    w.out = !os.empty() ? os[i] : mul_checked(node, in, s);
    const int64_t total = sub_checked(node, natural, w.out);
    // total/2 rounds toward zero as in the spec's integer formula.
    if (a.auto_pad == AutoPad::same_upper) {
      w.pad_begin = total / 2;
      w.pad_end = total - total / 2;
    } else {
      w.pad_begin = total - total / 2;
      w.pad_end = total / 2;
    }
  } else if (a.auto_pad == AutoPad::valid) {
    w.out = natural;
  } else {
    w.pad_begin = a.pads[i];
    w.pad_end = a.pads[i + a.nd];
    w.out = natural - w.pad_begin - w.pad_end;
  }
  if (w.out < 1) fail_node(node, "output spatial axis {} would have size {}", i, w.out);
  return w;
}

FusedActivation fused_activation_of(const ir::Node& node) {
  FusedActivation act;
  const ir::Attribute* kind = node.attr("qforge.activation");
  if (!kind) return act;
  if (kind->s == "Relu") {
    act.kind = FusedActivation::Kind::clamp;
    act.lo = 0.f;
  } else if (kind->s == "Clip") {
    act.kind = FusedActivation::Kind::clamp;
    act.lo = node.attr_f("qforge.activation_min", act.lo);
    act.hi = node.attr_f("qforge.activation_max", act.hi);
  } else if (kind->s == "LeakyRelu") {
    act.kind = FusedActivation::Kind::leaky;
    act.alpha = node.attr_f("qforge.activation_alpha", 0.01f);
  } else {
    fail_node(node, "unknown fused activation '{}'", kind->s);
  }
  return act;
}

}  // namespace qforge::runtime
