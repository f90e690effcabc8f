#include "data/npy.h"

#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/file_io.h"
#include "data/npy_header.h"

namespace qforge::data {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlign = 64;             // numpy's ARRAY_ALIGN
constexpr size_t kGrowthAxisDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS

// descr (without the byte-order character) <-> dtype. Multi-byte types are little-endian only.
struct NpyType {
  std::string_view code;
  DType dtype;
  size_t itemsize;
};
constexpr NpyType kNpyTypes[] = {
    {"f4", DType::f32, 4}, {"f8", DType::f64, 8}, {"f2", DType::f16, 2},  {"u1", DType::u8, 1},
    {"i1", DType::s8, 1},  {"i2", DType::s16, 2}, {"u2", DType::u16, 2},  {"i4", DType::s32, 4},
    {"u4", DType::u32, 4}, {"i8", DType::s64, 8}, {"u8", DType::u64, 8},  {"b1", DType::boolean, 1},
};

// A minimal reader for the Python literal numpy writes: a dict of str -> str | bool | tuple of int.
class DictParser {
 public:
  DictParser(std::string_view s, const std::string& name) : s_(s), name_(name) {}

  void parse(NpyHeader& h) {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<Shape> shape;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = parse_string("a quoted key");
      expect(':');
      if (key == "descr") {
        set_once(descr, parse_descr(), key);
      } else if (key == "fortran_order") {
        set_once(fortran, parse_bool(), key);
      } else if (key == "shape") {
        set_once(shape, parse_shape(), key);
      } else {
        fail("unexpected key '{}' in the header", key);
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}}' at header byte {}", pos_);
    }
    ++pos_;
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the header dict at byte {}", pos_);
    if (!descr || !fortran || !shape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    if (*fortran) fail("fortran_order=True arrays are not supported (save a C-order array)");
    h.shape = *shape;
    set_dtype(h, *descr);
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
    throw InputError(name_ + ": invalid .npy header: " + fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename T>
  void set_once(std::optional<T>& slot, T value, const std::string& key) {
    if (slot) fail("duplicate key '{}'", key);
    slot = std::move(value);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail("expected '{}' at header byte {}", c, pos_);
    ++pos_;
  }
  std::string parse_string(const char* what) {
    skip_ws();
    char q = peek();
    if (q != '\'' && q != '"') fail("expected {} at header byte {}", what, pos_);
    size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string at header byte {}", pos_);
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  std::string parse_descr() {
    skip_ws();
    if (peek() == '[') fail("structured dtypes are not supported");
    return parse_string("a dtype string for 'descr'");
  }
  bool parse_bool() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  Shape parse_shape() {
    expect('(');
    Shape shape;
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("'shape' must be a tuple of non-negative integers");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
          fail("a 'shape' dimension overflows int64");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literal
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape' at header byte {}", pos_);
      }
    }
    ++pos_;
    if (shape.size() > 32) fail("'shape' has {} dimensions, more than 32", shape.size());
    return shape;
  }
  void set_dtype(NpyHeader& h, const std::string& descr) {
    if (descr.size() < 2) fail("unsupported dtype '{}'", descr);
    char order = descr[0];
    std::string_view code = std::string_view(descr).substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
      order = '=';
      code = descr;
    }
    if (code == "O" || code.starts_with("O")) fail("object arrays are not supported");
    for (const NpyType& t : kNpyTypes) {
      if (t.code != code) continue;
      if (t.itemsize > 1 && order == '>') fail("big-endian dtype '{}' is not supported", descr);
      if (t.itemsize > 1 && order == '|') fail("dtype '{}' needs a byte order", descr);
      h.dtype = t.dtype;
      h.itemsize = t.itemsize;
      return;
    }
    fail("unsupported dtype '{}' (supported: f4 f8 f2 u1 i1 i2 u2 i4 u4 i8 u8 b1)", descr);
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint32_t read_le(std::string_view b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint32_t{static_cast<uint8_t>(b[at + i])} << (8 * i);
  return v;
}

std::string_view npy_descr(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::f16: return "<f2";
    case DType::u8: return "|u1";
    case DType::s8: return "|i1";
    case DType::s16: return "<i2";
    case DType::u16: return "<u2";
    case DType::s32: return "<i4";
    case DType::u32: return "<u4";
    case DType::s64: return "<i8";
    case DType::u64: return "<u8";
    case DType::boolean: return "|b1";
    default: return {};
  }
}

// Python's repr of a tuple of ints: (), (3,), (2, 3).
std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

NpyHeader parse_npy_header(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) fail_input("{}: not a .npy file (bad magic)", name);
  int major = static_cast<uint8_t>(bytes[6]);
  int minor = static_cast<uint8_t>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail_input("{}: unsupported .npy format version {}.{}", name, major, minor);
  size_t len_bytes = major == 1 ? 2 : 4;
  size_t prefix = 8 + len_bytes;
  if (bytes.size() < prefix) fail_input("{}: truncated .npy header", name);
  size_t header_len = read_le(bytes, 8, len_bytes);
  if (header_len > kNpyMaxHeaderBytes)
    fail_input("{}: .npy header of {} bytes is larger than the limit of {}", name, header_len, kNpyMaxHeaderBytes);
  if (bytes.size() < prefix + header_len)
    fail_input("{}: truncated .npy header ({} bytes announced, {} present)", name, header_len, bytes.size() - prefix);
  NpyHeader h;
  DictParser(bytes.substr(prefix, header_len), name).parse(h);
  shape_numel_checked(h.shape, name);
  h.data_offset = prefix + header_len;
  return h;
}

void check_npy_payload(const NpyHeader& h, uint64_t payload_bytes, const std::string& name) {
  // numel * itemsize may overflow: compare by division first.
  uint64_t numel = static_cast<uint64_t>(shape_numel(h.shape));
  if (numel > payload_bytes / h.itemsize || numel * h.itemsize != payload_bytes)
    fail_input("{}: .npy payload is {} bytes, but shape {} of {} needs {}", name, payload_bytes,
               shape_str(h.shape), dtype_name(h.dtype),
               numel > UINT64_MAX / h.itemsize ? std::string("more than 2^64")
                                               : std::to_string(numel * h.itemsize));
}

Tensor parse_npy(std::string_view bytes, const std::string& name) {
  NpyHeader h = parse_npy_header(bytes, name);
  check_npy_payload(h, bytes.size() - h.data_offset, name);
  Tensor t(h.dtype, h.shape);
  if (t.nbytes()) std::memcpy(t.raw(), bytes.data() + h.data_offset, t.nbytes());
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string serialize_npy(const Tensor& t) {
  std::string_view descr = npy_descr(t.dtype());
  QF_CHECK(!descr.empty(), "serialize_npy: no .npy dtype for " + std::string(dtype_name(t.dtype())));
  // Byte-identical to numpy.save: sorted keys, growth-axis spare spaces, 64-byte aligned header.
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr,
                                 shape_repr(t.shape()));
  if (!t.shape().empty()) {
    size_t digits = std::to_string(t.shape()[0]).size();
    if (digits < kGrowthAxisDigits) dict.append(kGrowthAxisDigits - digits, ' ');
  }
  size_t hlen = dict.size() + 1;  // + '\n'
  size_t prefix = 10;              // version 1.0: u16 header length
  size_t pad = kAlign - (prefix + hlen) % kAlign;
  bool v1 = hlen + pad <= 65535;
  if (!v1) {
    prefix = 12;  // version 2.0: u32 header length
    pad = kAlign - (prefix + hlen) % kAlign;
  }
  size_t header_len = hlen + pad;
  std::string out(kMagic);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xFF);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

void write_npy(const std::string& path, const Tensor& t) { write_file_atomic(path, serialize_npy(t)); }

}  // namespace qforge::data
