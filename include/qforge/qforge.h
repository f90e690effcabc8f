// qforge public C++ API (small on purpose): load a model, run it, evaluate it on a dataset.
//
//   auto model = qforge::ir::load_onnx("model.onnx");
//   qforge::runtime::Session session(model);
//   std::vector<qforge::Tensor> outputs = session.run({input});
//
// Errors in untrusted input (model files, data, shapes) throw qforge::InputError with a one-line
// message naming the file, node or option; programmer errors throw qforge::InternalError.
#pragma once

#include "core/cpu.h"
#include "core/error.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/npy.h"
#include "ir/graph.h"
#include "ir/onnx_io.h"
#include "ir/shape_inference.h"
#include "runtime/session.h"
