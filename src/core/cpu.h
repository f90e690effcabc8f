// CPU feature detection and the ISA level kernels are dispatched at. Chosen once at start from CPU
// features, starting at the reference and upgrading; QFORGE_ISA=ref|avx2|avx512 pins a level
// (never above what the CPU has).
#pragma once
#include <string_view>

namespace qforge {

enum class Isa { ref = 0, avx2 = 1, avx512 = 2 };  // avx512 = F+BW+DQ+VL+VNNI

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
  bool avx512vbmi = false;  // VPERMB / VPERMI2B (byte table lookups)
};

const CpuFeatures& cpu_features();
// The active level: the best the CPU supports, lowered by QFORGE_ISA or set_isa().
Isa active_isa();
// For tests: pin a level (clamped to what the CPU supports). Returns the level set.
Isa set_isa(Isa isa);
std::string_view isa_name(Isa isa);
// Number of threads kernels use by default (OpenMP's default unless set_num_threads was called).
int default_threads();
void set_num_threads(int n);

// The entry of a kernel table (STYLE §3: entries with an `isa` member, the reference first) with the
// highest level not above `isa`.
template <class Table>
const auto& kernel_for_isa(const Table& table, Isa isa) {
  const auto* best = &table[0];
  for (const auto& k : table)
    if (k.isa <= isa && k.isa >= best->isa) best = &k;
  return *best;
}

}  // namespace qforge
