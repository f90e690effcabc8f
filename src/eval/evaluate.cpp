#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "eval/inspect.h"
#include "runtime/session.h"

namespace qforge::eval {

namespace {

// The model's one data input, checked against the dataset's sample shape. Returns the fixed batch
// size when the model's first dim is a number, else 0.
int64_t check_model_input(const runtime::Session& sess, const data::Dataset& ds) {
  const ir::Graph& g = sess.graph();
  std::vector<const ir::ValueInfo*> ins;
  for (const auto& v : g.inputs)
    if (!g.initializer(v.name)) ins.push_back(&v);
  if (ins.size() != 1)
    fail_input("the model has {} inputs; eval needs a model with exactly one input", ins.size());
  const ir::ValueInfo& in = *ins[0];
  if (in.dtype != DType::undefined && in.dtype != DType::f32)
    fail_input("model input '{}' has dtype {}; eval feeds f32 samples", in.name, dtype_name(in.dtype));
  Shape sample = ds.sample_shape();
  if (!in.has_shape) return 0;
  bool fits = in.dims.size() == sample.size() + 1;
  for (size_t d = 0; fits && d < sample.size(); ++d)
    if (in.dims[d + 1].is_known() && in.dims[d + 1].value != sample[d]) fits = false;
  if (!fits) {
    std::string batch = "[N";
    for (int64_t d : sample) batch += "," + std::to_string(d);
    fail_input("model input '{}' expects {} but dataset '{}' gives batches of {}]", in.name,
               dims_str(in), ds.describe(), batch);
  }
  return in.dims[0].is_known() ? in.dims[0].value : 0;
}

// Copies n samples of x into a zero-filled batch of `rows` rows (for models with a fixed batch).
Tensor pad_rows(const Tensor& x, int64_t rows) {
  Shape s = x.shape();
  s[0] = rows;
  Tensor padded(DType::f32, s);
  std::memcpy(padded.raw(), x.raw(), x.nbytes());
  return padded;
}

int check_model_output(const ir::ValueInfo& out, const Tensor& y, int64_t rows, int dataset_classes) {
  if (y.dtype() != DType::f32 || y.rank() != 2 || y.dim(0) != rows)
    fail_input("model output '{}' is {} {}; eval needs f32 scores of shape [N,classes] (N = {})",
               out.name, dtype_name(y.dtype()), shape_str(y.shape()), rows);
  int64_t classes = y.dim(1);
  if (classes < 1 || classes < dataset_classes)
    fail_input("model output '{}' has {} classes but the dataset has {}", out.name, classes,
               dataset_classes);
  return static_cast<int>(classes);
}

}  // namespace

EvalResult evaluate(const ir::Model& model, data::Dataset& ds, const EvalOptions& opts) {
  QF_CHECK(opts.batch > 0 && opts.top_k > 0);
  auto t0 = std::chrono::steady_clock::now();
  if (!ds.has_labels()) fail_input("dataset '{}' has no labels; eval needs labelled samples", ds.describe());
  const int64_t total = ds.size();
  if (total <= 0) fail_input("dataset '{}' is empty", ds.describe());

  runtime::SessionOptions so;
  so.threads = opts.threads;
  runtime::Session sess(model, so);
  if (sess.outputs().empty()) fail_input("the model has no outputs");
  const int64_t fixed_batch = check_model_input(sess, ds);
  const int64_t batch = fixed_batch > 0 ? fixed_batch : opts.batch;

  std::optional<ClassificationMetrics> metrics;
  for (int64_t begin = 0; begin < total; begin += batch) {
    data::Batch b = ds.read(begin, std::min(batch, total - begin));
    const int64_t n = b.x.empty() ? 0 : b.x.dim(0);
    if (n == 0) fail_input("dataset '{}' returned no samples at index {} of {}", ds.describe(), begin, total);
    QF_CHECK(static_cast<int64_t>(b.labels.size()) == n, "dataset returned labels for a different count");
    Tensor x = fixed_batch > 0 && n < fixed_batch ? pad_rows(b.x, fixed_batch) : b.x;
    std::vector<Tensor> ys = sess.run({x});
    const Tensor& y = ys.at(0);
    const int classes = check_model_output(sess.outputs()[0], y, x.dim(0), ds.num_classes());
    if (!metrics) metrics.emplace(classes, opts.top_k);
    if (classes != metrics->num_classes())
      fail_input("model output '{}' changed from {} to {} classes between batches",
                 sess.outputs()[0].name, metrics->num_classes(), classes);
    metrics->update(y.span<const float>().subspan(0, static_cast<size_t>(n * classes)), b.labels);
    if (opts.progress) opts.progress(begin + n, total);
  }

  EvalResult r{ds.describe(), ds.class_names(), std::move(*metrics), batch, sess.threads(), 0};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace qforge::eval
