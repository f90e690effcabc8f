#include "core/cpu.h"

#include <cpuid.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace qforge {

namespace {
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (!osxsave) return f;
  uint64_t xcr0 = xgetbv0();
  bool ymm = (xcr0 & 0x6) == 0x6;
  bool zmm = (xcr0 & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm && (b & (1u << 5));
  f.avx512f = zmm && (b & (1u << 16));
  f.avx512dq = zmm && (b & (1u << 17));
  f.avx512bw = zmm && (b & (1u << 30));
  f.avx512vl = zmm && (b & (1u << 31));
  f.avx512vnni = zmm && (c & (1u << 11));
  f.avx512vbmi = zmm && (c & (1u << 1));
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx512bf16 = zmm && (a & (1u << 5));
    f.avxvnni = ymm && (a & (1u << 4));
  }
  if (!ymm) f.fma = f.f16c = false;
  return f;
}

Isa best_supported() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx512vnni && f.fma) return Isa::avx512;
  if (f.avx2 && f.fma && f.f16c) return Isa::avx2;
  return Isa::ref;
}

Isa initial_isa() {
  Isa best = best_supported();
  const char* env = std::getenv("QFORGE_ISA");
  if (!env || !*env) return best;
  Isa want;
  if (!std::strcmp(env, "ref")) want = Isa::ref;
  else if (!std::strcmp(env, "avx2")) want = Isa::avx2;
  else if (!std::strcmp(env, "avx512")) want = Isa::avx512;
  else throw InputError(std::string("QFORGE_ISA: unknown level '") + env + "', expected ref, avx2 or avx512");
  return want < best ? want : best;
}

int g_threads = 0;

Isa& isa_slot() {
  static Isa isa = initial_isa();  // lazy: a bad QFORGE_ISA surfaces as InputError, not at load
  return isa;
}
}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

Isa active_isa() { return isa_slot(); }

Isa set_isa(Isa isa) {
  Isa best = best_supported();
  isa_slot() = isa < best ? isa : best;
  return isa_slot();
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::ref: return "ref";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

int default_threads() { return g_threads > 0 ? g_threads : omp_get_max_threads(); }

void set_num_threads(int n) {
  g_threads = n;
  if (n > 0) omp_set_num_threads(n);
}

}  // namespace qforge
