// Learning-rate schedules, a function of the step t (0-based, t < total_steps).
//   Cosine (with linear warmup over the first `warmup` steps):
//     t < warmup: lr = base · (t + 1) / warmup
//     else:       lr = min + (base - min) · (1 + cos(π · (t - warmup) / (total - warmup))) / 2
//   One-cycle (torch.optim.lr_scheduler.OneCycleLR, anneal_strategy "cos", two phases):
//     initial = max / div_factor, final = initial / final_div_factor,
//     phase 1 over steps [0, pct_start·total - 1]: initial → max, phase 2 to total - 1: max → final,
//     each  lr = end + (start - end) · (1 + cos(π · pct)) / 2,  pct = steps into the phase / phase length
#pragma once
#include <cstdint>

namespace qforge::train {

struct CosineSchedule {
  double base_lr = 0.1, min_lr = 0;
  int64_t total_steps = 1, warmup = 0;
  double lr_at(int64_t t) const;
};

struct OneCycleSchedule {
  double max_lr = 0.1, pct_start = 0.3, div_factor = 25, final_div_factor = 1e4;
  int64_t total_steps = 1;
  double lr_at(int64_t t) const;
};

}  // namespace qforge::train
