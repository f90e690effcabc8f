#include "ir/onnx_tensor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <new>

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

namespace qforge::ir {

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian; qforge assumes a little-endian host");

namespace {

namespace fs = std::filesystem;

struct Where {
  const TensorReadCtx& ctx;
  const std::string& what;
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) const {
    fail_input("{}: {}: {}", ctx.file, what, fmt::format(f, std::forward<Args>(args)...));
  }
};

DType checked_dtype(const onnx::TensorProto& p, const Where& w) {
  auto dt = dtype_from_onnx(p.data_type());
  if (!dt || *dt == DType::undefined) w.fail("unknown data_type {}", p.data_type());
  if (*dt == DType::string) w.fail("string tensors are not supported");
  return *dt;
}

std::string u128_str(unsigned __int128 v) {
  if (v > UINT64_MAX) return "more than 2^64";
  return std::to_string(static_cast<uint64_t>(v));
}

// Bytes for n elements of dt, computed without overflow; checked against and added to the budget.
size_t reserve_bytes(DType dt, int64_t n, const Shape& shape, TensorReadCtx& ctx, const Where& w) {
  unsigned __int128 need = (static_cast<unsigned __int128>(n) * dtype_bits(dt) + 7) / 8;
  unsigned __int128 total = need + ctx.used_bytes;
  if (total > ctx.max_bytes)
    w.fail("dims {} of {} need {} bytes; the model's tensors would exceed the limit of {} bytes",
           shape_str(shape), dtype_name(dt), u128_str(need), ctx.max_bytes);
  ctx.used_bytes = static_cast<uint64_t>(total);
  return static_cast<size_t>(need);
}

uint64_t parse_u64(const std::string& s, const char* key, const Where& w) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    w.fail("external_data {} '{}' is not a non-negative integer", key, printable(s));
  return v;
}

// Resolves `location` inside base_dir, refusing absolute paths, '..' and symlinks leading outside.
std::string resolve_external(const std::string& location, const TensorReadCtx& ctx, const Where& w) {
  if (ctx.base_dir.empty()) w.fail("external data is not allowed here (no model folder)");
  if (location.empty()) w.fail("external_data has no 'location'");
  fs::path loc(location);
  if (loc.is_absolute()) w.fail("external data location '{}' is an absolute path", printable(location));
  for (const auto& part : loc)
    if (part == "..") w.fail("external data location '{}' contains '..'", printable(location));
  char base_real[PATH_MAX], file_real[PATH_MAX];
  if (!::realpath(ctx.base_dir.c_str(), base_real))
    w.fail("model folder '{}' cannot be resolved: {}", printable(ctx.base_dir), std::strerror(errno));
  std::string full = (fs::path(ctx.base_dir) / loc).string();
  if (!::realpath(full.c_str(), file_real))
    w.fail("cannot open external data file '{}': {}", printable(location), std::strerror(errno));
  std::string base = base_real, file = file_real;
  if (base.back() != '/') base += '/';
  if (file.compare(0, base.size(), base) != 0)
    w.fail("external data location '{}' resolves outside the model's folder", printable(location));
  return file;
}

void read_external(const onnx::TensorProto& p, void* dst, size_t need, const TensorReadCtx& ctx,
                   const Where& w) {
  std::string location;
  uint64_t offset = 0;
  bool has_length = false;
  uint64_t length = 0;
  for (const auto& kv : p.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = parse_u64(kv.value(), "offset", w);
    else if (kv.key() == "length") { length = parse_u64(kv.value(), "length", w); has_length = true; }
  }
  std::string path = resolve_external(location, ctx, w);
  if (!has_length) length = need;
  if (length != need)
    w.fail("external data length is {} bytes, dims {} need {}", length, shape_str({p.dims().begin(), p.dims().end()}), need);
  // O_NONBLOCK: opening a FIFO placed in the model's folder must not wait for a writer; the
  // regular-file check below then refuses it (no effect on reads of regular files).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) w.fail("cannot open external data file '{}': {}", printable(location), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    w.fail("external data file '{}' is not a regular file", printable(location));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || length > size - offset) {
    ::close(fd);
    w.fail("external data offset {} + length {} is past the end of '{}' ({} bytes)", offset, length,
           printable(location), size);
  }
  auto* out = static_cast<char*>(dst);
  size_t got = 0;
  while (got < length) {
    ssize_t r = ::pread(fd, out + got, length - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = errno;
      ::close(fd);
      w.fail("reading external data file '{}' failed: {}", printable(location),
             r < 0 ? std::strerror(e) : "unexpected end of file");
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
}

// int32_data holds one value per element for the small types (bit patterns for f16/bf16/f8) and one
// packed byte per two elements for s4/u4. Values outside [lo, hi] are refused; stored as `bytes` wide.
void copy_int32_field(const onnx::TensorProto& p, Tensor& t, const Where& w) {
  DType dt = t.dtype();
  int64_t lo = 0, hi = 0, count = t.numel();
  int bytes = 1;
  switch (dt) {
    case DType::s32: lo = INT32_MIN; hi = INT32_MAX; bytes = 4; break;
    case DType::s16: lo = INT16_MIN; hi = INT16_MAX; bytes = 2; break;
    case DType::u16: lo = 0; hi = UINT16_MAX; bytes = 2; break;
    case DType::f16: case DType::bf16: lo = INT16_MIN; hi = UINT16_MAX; bytes = 2; break;
    case DType::s8: lo = INT8_MIN; hi = INT8_MAX; break;
    case DType::u8: lo = 0; hi = UINT8_MAX; break;
    case DType::boolean: lo = 0; hi = 1; break;
    case DType::f8e4m3fn: case DType::f8e4m3fnuz: case DType::f8e5m2: case DType::f8e5m2fnuz:
      lo = INT8_MIN; hi = UINT8_MAX; break;
    case DType::s4: case DType::u4: lo = INT8_MIN; hi = UINT8_MAX; count = (count + 1) / 2; break;
    default: w.fail("int32_data cannot hold {} values", dtype_name(dt));
  }
  if (p.int32_data_size() != count)
    w.fail("int32_data has {} values, dims {} need {}", p.int32_data_size(), shape_str(t.shape()), count);
  auto* dst = static_cast<uint8_t*>(t.raw());
  for (int64_t i = 0; i < count; ++i) {
    int64_t v = p.int32_data(static_cast<int>(i));
    if (v < lo || v > hi) w.fail("int32_data value {} at {} is out of range for {}", v, i, dtype_name(dt));
    auto u = static_cast<uint32_t>(v);
    std::memcpy(dst + i * bytes, &u, bytes);  // little-endian: the low bytes
  }
}

template <typename Field>
void copy_field(const Field& f, const char* field, int64_t count, Tensor& t, const Where& w) {
  if (f.size() != count)
    w.fail("{} has {} values, dims {} need {}", field, f.size(), shape_str(t.shape()), count);
  if (count) std::memcpy(t.raw(), f.data(), count * sizeof(f.Get(0)));
}

void copy_typed(const onnx::TensorProto& p, Tensor& t, const Where& w) {
  int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::f32: return copy_field(p.float_data(), "float_data", n, t, w);
    case DType::c64: return copy_field(p.float_data(), "float_data", 2 * n, t, w);
    case DType::f64: return copy_field(p.double_data(), "double_data", n, t, w);
    case DType::c128: return copy_field(p.double_data(), "double_data", 2 * n, t, w);
    case DType::s64: return copy_field(p.int64_data(), "int64_data", n, t, w);
    case DType::u64: return copy_field(p.uint64_data(), "uint64_data", n, t, w);
    case DType::u32: {
      if (p.uint64_data_size() != n)
        w.fail("uint64_data has {} values, dims {} need {}", p.uint64_data_size(), shape_str(t.shape()), n);
      for (int64_t i = 0; i < n; ++i) {
        uint64_t v = p.uint64_data(static_cast<int>(i));
        if (v > UINT32_MAX) w.fail("uint64_data value {} at {} is out of range for u32", v, i);
        t.data<uint32_t>()[i] = static_cast<uint32_t>(v);
      }
      return;
    }
    default: return copy_int32_field(p, t, w);
  }
}

// The typed field that holds dt and how many values it must have for n elements.
std::pair<const char*, int64_t> typed_field_of(const onnx::TensorProto& p, DType dt) {
  switch (dt) {
    case DType::f32: return {"float_data", p.float_data_size()};
    case DType::c64: return {"float_data", p.float_data_size()};
    case DType::f64: case DType::c128: return {"double_data", p.double_data_size()};
    case DType::s64: return {"int64_data", p.int64_data_size()};
    case DType::u64: case DType::u32: return {"uint64_data", p.uint64_data_size()};
    default: return {"int32_data", p.int32_data_size()};
  }
}

int64_t typed_values_needed(DType dt, int64_t n) {
  if (dt == DType::c64 || dt == DType::c128) return 2 * n;
  if (dt == DType::s4 || dt == DType::u4) return n / 2 + n % 2;
  return n;
}

int typed_field_count(const onnx::TensorProto& p) {
  return (p.float_data_size() > 0) + (p.int32_data_size() > 0) + (p.int64_data_size() > 0) +
         (p.double_data_size() > 0) + (p.uint64_data_size() > 0) + (p.string_data_size() > 0);
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& p, TensorReadCtx& ctx, const std::string& what) {
  Where w{ctx, what};
  DType dt = checked_dtype(p, w);
  Shape shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape)
    if (d < 0) w.fail("negative dimension {} in dims {}", d, shape_str(shape));
  int64_t n = 0;
  try {
    n = shape_numel_checked(shape, "dims");
  } catch (const InputError& e) {
    w.fail("{}", e.what());
  }
  if (p.has_segment()) w.fail("segmented tensors are not supported");
  bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
  int typed = typed_field_count(p);
  if (external && (p.has_raw_data() || typed))
    w.fail("external data tensor also has inline data");
  if (p.has_raw_data() && typed) w.fail("has both raw_data and typed data fields");
  if (typed > 1) w.fail("has more than one typed data field");
  // Length checks first (cheap, no allocation), then the budget, then the allocation.
  unsigned __int128 need128 = (static_cast<unsigned __int128>(n) * dtype_bits(dt) + 7) / 8;
  if (!external && p.has_raw_data() && need128 != p.raw_data().size())
    w.fail("raw_data has {} bytes, dims {} need {}", p.raw_data().size(), shape_str(shape), u128_str(need128));
  if (!external && !p.has_raw_data() && !typed && n > 0)
    w.fail("has no data, dims {} need {} values", shape_str(shape), n);
  if (typed) {
    auto [field, have] = typed_field_of(p, dt);
    // 2n for c64/c128 saturates; such a count can never match.
    int64_t want = n > (INT64_MAX / 2) ? INT64_MAX : typed_values_needed(dt, n);
    if (have != want) w.fail("{} has {} values, dims {} need {}", field, have, shape_str(shape), want);
  }
  size_t need = reserve_bytes(dt, n, shape, ctx, w);
  Tensor t;
  try {
    t = Tensor(dt, shape);
  } catch (const std::bad_alloc&) {
    w.fail("out of memory allocating {} bytes", need);
  }
  if (external) read_external(p, t.raw(), need, ctx, w);
  else if (p.has_raw_data()) { if (need) std::memcpy(t.raw(), p.raw_data().data(), need); }
  else if (typed) copy_typed(p, t, w);
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p) {
  QF_CHECK(!t.empty(), "exporting an empty tensor " + name);
  if (t.dtype() == DType::nf4 || t.dtype() == DType::string || t.dtype() == DType::undefined)
    fail_input("tensor '{}': dtype {} cannot be written to ONNX", name, dtype_name(t.dtype()));
  if (!name.empty()) p->set_name(name);
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_data_type(static_cast<int32_t>(t.dtype()));
  p->set_raw_data(static_cast<const char*>(t.raw()), t.nbytes());
}

Tensor constant_node_value(const Node& n) {
  for (const auto& a : n.attrs) {
    if (a.name == "value" && a.kind == AttrKind::t) return a.t;
    if (a.name == "value_float" && a.kind == AttrKind::f)
      return Tensor::from_vector<float>(DType::f32, {}, {a.f});
    if (a.name == "value_floats" && a.kind == AttrKind::floats)
      return Tensor::from_vector<float>(DType::f32, {static_cast<int64_t>(a.floats.size())}, a.floats);
    if (a.name == "value_int" && a.kind == AttrKind::i)
      return Tensor::from_vector<int64_t>(DType::s64, {}, {a.i});
    if (a.name == "value_ints" && a.kind == AttrKind::ints)
      return Tensor::from_vector<int64_t>(DType::s64, {static_cast<int64_t>(a.ints.size())}, a.ints);
    if (a.name == "value_string" || a.name == "value_strings" || a.name == "sparse_value")
      fail_input("{}: attribute '{}' is not supported", n.describe(), a.name);
  }
  fail_input("{}: has no value attribute", n.describe());
}

std::string printable(const std::string& s) {
  constexpr size_t kMax = 200;
  std::string r;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    r += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > kMax) r += "...";
  return r;
}

std::string one_line(const std::string& msg) {
  std::string r = msg;
  for (char& c : r)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return r;
}

}  // namespace qforge::ir
