// One opener per dataset kind; open_dataset (dataset.cpp) parses the spec and calls these.
// `spec` is used in messages and returned by describe().
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace qforge::data {

// labels may be empty (no labels).
std::unique_ptr<Dataset> open_idx_dataset(const std::string& images, const std::string& labels,
                                          const Preprocess& pp, const std::string& spec,
                                          std::vector<std::string> class_names = {});
std::unique_ptr<Dataset> open_npy_dataset(const std::string& file, const std::string& labels,
                                          const Preprocess& pp, const std::string& spec);
std::unique_ptr<Dataset> open_image_folder(const std::string& dir, const Preprocess& pp, const std::string& spec);

}  // namespace qforge::data
