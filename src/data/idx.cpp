#include "data/idx.h"

#include <zlib.h>

#include <bit>
#include <cstring>

#include "core/error.h"
#include "data/array_dataset.h"
#include "data/dataset_kinds.h"

namespace qforge::data {
namespace {

// Deflate cannot expand data more than 1032:1, so a gzip file of S bytes holds at most ~1032 * S.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr int kMaxIdxDims = 16;

size_t idx_elem_size(int type) {
  switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

template <typename U>
U load_be(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(U) == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof(U) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(U) == 8) v = __builtin_bswap64(v);
  }
  return v;
}

double idx_value(int type, const uint8_t* p) {
  switch (type) {
    case 0x08: return *p;
    case 0x09: return static_cast<int8_t>(*p);
    case 0x0B: return static_cast<int16_t>(load_be<uint16_t>(p));
    case 0x0C: return static_cast<int32_t>(load_be<uint32_t>(p));
    case 0x0D: return std::bit_cast<float>(load_be<uint32_t>(p));
    default: return std::bit_cast<double>(load_be<uint64_t>(p));
  }
}

}  // namespace

// A gzip file read front to back with zlib's gz* interface; errors name the file.
class GzStream {
 public:
  explicit GzStream(const std::string& path) : path_(path), gz_(gzopen(path.c_str(), "rb")) {
    if (!gz_) fail_input("{}: cannot open", path_);
    gzbuffer(gz_, 1 << 17);
  }
  ~GzStream() { gzclose(gz_); }
  GzStream(const GzStream&) = delete;
  GzStream& operator=(const GzStream&) = delete;

  // Reads up to n bytes; returns how many (fewer at the end of the stream).
  uint64_t read(uint8_t* dst, uint64_t n) {
    uint64_t got = 0;
    while (got < n) {
      unsigned chunk = static_cast<unsigned>(std::min<uint64_t>(n - got, 1u << 30));
      int r = gzread(gz_, dst + got, chunk);
      if (r < 0) fail("corrupt gzip data");
      if (r == 0) break;
      got += static_cast<uint64_t>(r);
    }
    return got;
  }
  [[noreturn]] void fail(const char* what) {
    int err = Z_OK;
    std::string msg = gzerror(gz_, &err);
    if (msg.starts_with(path_ + ": ")) msg.erase(0, path_.size() + 2);  // zlib prefixes the path
    fail_input("{}: {}{}{}", path_, what, err != Z_OK ? ": " : "", err != Z_OK ? msg : "");
  }
  // After the payload: nothing may follow, and the stream (CRC, length) must have checked out.
  void check_end(uint64_t payload_bytes, const Shape& dims) {
    uint8_t extra = 0;
    if (read(&extra, 1) != 0)
      fail_input("{}: data continues past the {} bytes its header {} describes", path_, payload_bytes,
                 shape_str(dims));
    int err = Z_OK;
    gzerror(gz_, &err);
    if (err != Z_OK) fail("corrupt gzip stream");
  }

 private:
  std::string path_;
  gzFile gz_;
};

IdxFile::IdxFile(const std::string& path, uint64_t inflate_all_below) : path_(path) {
  raw_ = std::make_unique<FileReader>(path);
  uint8_t magic[2] = {0, 0};
  if (raw_->size() >= 2) raw_->read_at(0, 2, magic);
  if (magic[0] == 0x1f && magic[1] == 0x8b) {
    open_gzip(inflate_all_below);
    raw_.reset();
  } else {
    open_raw();
  }
}

IdxFile::~IdxFile() = default;

// Validates the 4-byte magic and reads the dims; `header` holds 4 + 4 * ndims bytes.
void IdxFile::parse_dims(const uint8_t* header, size_t header_size) {
  dims_.clear();
  for (size_t at = 4; at + 4 <= header_size; at += 4) dims_.push_back(load_be<uint32_t>(header + at));
  int64_t numel = shape_numel_checked(dims_, path_);
  if (__builtin_mul_overflow(static_cast<uint64_t>(numel), elem_size_, &payload_bytes_))
    fail_input("{}: IDX header dims {} overflow", path_, shape_str(dims_));
  // With dims_[0] == 0 the total is 0 whatever the rest says: the item's own product is checked too.
  item_numel_ = dims_[0] == 0 ? shape_numel_checked(Shape(dims_.begin() + 1, dims_.end()), path_) : numel / dims_[0];
}

namespace {
// The 4-byte magic: 00 00 TYPE NDIMS. Returns ndims.
int check_magic(const uint8_t* m, uint64_t file_bytes, const std::string& path, size_t* elem_size, int* type) {
  if (file_bytes < 4 || m[0] != 0 || m[1] != 0)
    fail_input("{}: not an IDX file (bad magic; expected 00 00 TYPE NDIMS)", path);
  *type = m[2];
  *elem_size = idx_elem_size(m[2]);
  if (*elem_size == 0) fail_input("{}: unknown IDX element type 0x{:02x}", path, m[2]);
  if (m[3] < 1 || m[3] > kMaxIdxDims) fail_input("{}: IDX file with {} dimensions", path, m[3]);
  return m[3];
}
}  // namespace

void IdxFile::open_raw() {
  uint8_t head[4 + 4 * kMaxIdxDims] = {};
  raw_->read_at(0, std::min<uint64_t>(raw_->size(), 4), head);
  int ndims = check_magic(head, raw_->size(), path_, &elem_size_, &type_);
  size_t header_size = 4 + 4 * static_cast<size_t>(ndims);
  if (raw_->size() < header_size) fail_input("{}: truncated IDX header", path_);
  raw_->read_at(0, header_size, head);
  parse_dims(head, header_size);
  raw_offset_ = header_size;
  uint64_t have = raw_->size() - header_size;
  if (have < payload_bytes_)
    fail_input("{}: truncated: the header {} describes {} bytes of data, the file holds {}", path_,
               shape_str(dims_), payload_bytes_, have);
  if (have > payload_bytes_)
    fail_input("{}: {} bytes follow the {} bytes of data its header {} describes", path_, have - payload_bytes_,
               payload_bytes_, shape_str(dims_));
}

void IdxFile::open_gzip(uint64_t inflate_all_below) {
  uint64_t compressed = raw_->size();
  // The gzip trailer ends with ISIZE, the inflated length mod 2^32 (of the last member).
  uint32_t isize = 0;
  if (compressed >= 18) {
    uint8_t t[4];
    raw_->read_at(compressed - 4, 4, t);
    isize = static_cast<uint32_t>(t[0] | t[1] << 8 | t[2] << 16) | static_cast<uint32_t>(t[3]) << 24;
  }
  gz_ = std::make_unique<GzStream>(path_);
  uint8_t head[4 + 4 * kMaxIdxDims] = {};
  uint64_t got = gz_->read(head, 4);
  int ndims = check_magic(head, got, path_, &elem_size_, &type_);
  size_t header_size = 4 + 4 * static_cast<size_t>(ndims);
  if (gz_->read(head + 4, header_size - 4) != header_size - 4) gz_->fail("truncated IDX header");
  parse_dims(head, header_size);
  if (payload_bytes_ / kMaxDeflateRatio > compressed)
    fail_input("{}: the IDX header {} describes {} bytes of data, more than a {}-byte gzip file can hold",
               path_, shape_str(dims_), payload_bytes_, compressed);
  bool lazy = payload_bytes_ >= inflate_all_below && isize == static_cast<uint32_t>(header_size + payload_bytes_);
  if (!lazy) inflate_to(payload_bytes_);
}

void IdxFile::inflate_to(uint64_t end) const {
  QF_CHECK(end <= payload_bytes_);
  if (!gz_) return;
  // Grow in steps so a lying header in a truncated file costs no more than the data really there.
  constexpr uint64_t kMaxStep = uint64_t{64} << 20;
  uint64_t target = std::min(payload_bytes_, std::max<uint64_t>(end, inflated_.size() + kIdxInflateStep));
  while (inflated_.size() < end && inflated_.size() < target) {
    size_t at = inflated_.size();
    size_t want = static_cast<size_t>(std::min(target - at, kMaxStep));
    inflated_.resize(at + want);
    uint64_t r = gz_->read(inflated_.data() + at, want);
    if (r < want) {
      inflated_.resize(at + r);
      fail_input("{}: truncated: the header {} describes {} bytes of data, the file holds {}", path_,
                 shape_str(dims_), payload_bytes_, at + r);
    }
  }
  if (inflated_.size() == payload_bytes_) {
    gz_->check_end(payload_bytes_, dims_);
    gz_.reset();
  }
}

template <typename F>
void IdxFile::with_bytes(uint64_t offset, size_t n, F&& f) const {
  QF_CHECK(offset + n <= payload_bytes_);
  if (raw_) {
    std::vector<uint8_t> buf(n);
    raw_->read_at(raw_offset_ + offset, n, buf.data());
    f(buf.data());
    return;
  }
  std::lock_guard lock(mu_);
  inflate_to(offset + n);
  f(inflated_.data() + offset);
}

uint64_t IdxFile::inflated_bytes() const {
  if (raw_) return payload_bytes_;
  std::lock_guard lock(mu_);
  return inflated_.size();
}

void IdxFile::read_f32(int64_t first, int64_t n, float* dst, bool scale_u8) const {
  QF_CHECK(first >= 0 && n >= 0 && first + n <= count());
  size_t numel = static_cast<size_t>(n * item_numel_);
  uint64_t offset = static_cast<uint64_t>(first * item_numel_) * elem_size_;
  with_bytes(offset, numel * elem_size_, [&](const uint8_t* src) {
    if (type_ == 0x08) {
      float div = scale_u8 ? 255.0f : 1.0f;
      for (size_t i = 0; i < numel; ++i) dst[i] = static_cast<float>(src[i]) / div;
      return;
    }
    for (size_t i = 0; i < numel; ++i) dst[i] = static_cast<float>(idx_value(type_, src + i * elem_size_));
  });
}

std::vector<int64_t> IdxFile::read_all_i64() const {
  if (type_ == 0x0D || type_ == 0x0E) fail_input("{}: labels must be integers, this IDX file holds floats", path_);
  std::vector<int64_t> out(static_cast<size_t>(payload_bytes_ / elem_size_));
  with_bytes(0, static_cast<size_t>(payload_bytes_), [&](const uint8_t* src) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(idx_value(type_, src + i * elem_size_));
  });
  return out;
}

namespace {

class IdxDataset : public ArrayDataset {
 public:
  IdxDataset(std::unique_ptr<IdxFile> images, Shape raw_sample, std::optional<std::vector<int32_t>> labels,
             const Preprocess& pp, const std::string& spec, std::vector<std::string> class_names)
      : ArrayDataset(spec, std::move(raw_sample), images->count(), std::move(labels), pp, std::move(class_names)),
        images_(std::move(images)) {}

 protected:
  void read_raw(int64_t begin, int64_t n, float* dst) override { images_->read_f32(begin, n, dst, true); }

 private:
  std::unique_ptr<IdxFile> images_;
};

}  // namespace

std::unique_ptr<Dataset> open_idx_dataset(const std::string& images, const std::string& labels,
                                          const Preprocess& pp, const std::string& spec,
                                          std::vector<std::string> class_names) {
  auto img = std::make_unique<IdxFile>(images);
  const Shape& d = img->dims();
  if (d.size() < 2) fail_input("{}: an IDX images file needs dims [n, ...], this one has {}", images, shape_str(d));
  // [n, h, w] images gain a channel axis: [1, h, w].
  Shape raw_sample = d.size() == 3 ? Shape{1, d[1], d[2]} : Shape(d.begin() + 1, d.end());
  std::optional<std::vector<int32_t>> lab;
  if (!labels.empty()) {
    IdxFile lf(labels);
    if (lf.dims().size() != 1) fail_input("{}: an IDX labels file needs dims [n], this one has {}", labels, shape_str(lf.dims()));
    if (lf.count() != img->count())
      fail_input("{}: {} labels for the {} images of {}", labels, lf.count(), img->count(), images);
    lab = checked_labels(lf.read_all_i64(), labels);
  }
  return std::make_unique<IdxDataset>(std::move(img), std::move(raw_sample), std::move(lab), pp, spec,
                                      std::move(class_names));
}

}  // namespace qforge::data
