// Pattern-matching helpers of the QDQ lowering (lower_qdq.h), shared by its files.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace qforge::runtime::lower {

// A quantized activation: the integer value and its scalar parameters (initializer names + values).
struct ActQ {
  std::string q, scale, zp;
  DType dtype = DType::u8;
  float s = 1;
  int32_t z = 0;
};

// The quantized output of an anchor node: y_q with its parameters, the clamp of a folded Relu / Clip
// (qmin / qmax within the dtype range) and the nodes the rewrite replaces after the anchor.
struct OutQ {
  ActQ y;
  int32_t qmin = 0, qmax = 255;
  int act = -1;  // node index of the folded Relu / Clip, or -1
  int quant = -1;  // node index of the QuantizeLinear
};

// A per-output-channel s8 weight.
struct WeightQ {
  Tensor w;                  // s8, zero point subtracted
  std::vector<float> scale;  // one per output channel
  bool modified = false;     // w differs from the initializer
  std::string name;          // the initializer (when not modified)
};

class Ctx {
 public:
  explicit Ctx(ir::Graph& g);

  ir::Graph& g;
  std::vector<bool> removed;
  std::vector<std::vector<ir::Node>> added_before;  // per original node index
  std::map<std::string, std::string> reasons;       // node name → why it stays in float
  int lowered = 0;

  int producer(const std::string& v) const;
  int uses(const std::string& v) const;  // node inputs reading v, +1 when v is a graph output
  int consumer(const std::string& v) const;  // the only reading node (-1 when not exactly one)
  const Tensor* init(const std::string& v) const { return v.empty() ? nullptr : g.initializer(v); }

  // Failure → false with `why` set.
  bool act_input(const std::string& v, ActQ& a, std::string& why) const;
  bool quantized_output(int anchor, bool allow_act, OutQ& o, std::string& why) const;
  bool weight(const std::string& v, int channel_axis, WeightQ& w, std::string& why) const;

  std::string new_init(const std::string& base, Tensor t);  // unique name
  void add(int before, ir::Node n) { added_before[before].push_back(std::move(n)); }
  void replace(int anchor, const OutQ& o);  // marks the anchor, act and Q removed

 private:
  std::unordered_map<std::string, int> producer_, uses_, consumer_;
};

// Q_out(f(DQ_in(v))) for the 256 codes v of `in` (index: the code as u8, s8 codes + 128), where f is
// the node `fn` (an elementwise op whose inputs other than 0 are initializers) or identity, followed
// by the clamp [qmin, qmax]; a u8 / s8 tensor of out's dtype.
Tensor make_lut(const Ctx& c, const ActQ& in, const ir::Node* fn, const ActQ& out, int32_t qmin, int32_t qmax);

// An integer attribute; the fused clamp attributes qforge.qmin / qforge.qmax of o on n.
ir::Attribute int_attr(const std::string& name, int64_t v);
void set_clamp(ir::Node& n, const OutQ& o);

// The lowering of each anchor family (lower_linear.cpp, lower_elementwise.cpp). Return false with
// the reason when the node stays in float; InputError for invalid models.
bool lower_conv(Ctx& c, int i, std::string& why);
bool lower_gemm(Ctx& c, int i, std::string& why);
bool lower_binary(Ctx& c, int i, std::string& why);
bool lower_avgpool(Ctx& c, int i, std::string& why);
bool lower_unary(Ctx& c, int i, std::string& why);
bool lower_passthrough(Ctx& c, int i, std::string& why);
bool lower_concat(Ctx& c, int i, std::string& why);

bool is_unary_elementwise(const std::string& op);
bool is_passthrough(const std::string& op);

}  // namespace qforge::runtime::lower
