// The bodies of the depthwise backward plane kernels (dw_grad.h), written once in portable C++ and
// compiled once per ISA: dw_grad.cpp, dw_grad__avx2.cpp and dw_grad__avx512.cpp include this file
// and the compiler vectorizes the inner loops for each file's flags. Internal linkage, so each file
// keeps its own copy; plain loops only (an std:: template instantiated here could be shared with,
// and run by, a file compiled for a lower ISA).
#pragma once
#include "train/kernels/dw_grad.h"

namespace qforge::train {
namespace {

// Output columns [lo, hi) whose input column ow·sw + off lies inside [0, w).
inline void dw_valid_cols(const DwGradPlane& p, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + p.sw - 1) / p.sw;
  hi = p.w - 1 - off < 0 ? 0 : (p.w - 1 - off) / p.sw + 1;
  if (lo > p.ow) lo = p.ow;
  if (hi > p.ow) hi = p.ow;
  if (hi < lo) hi = lo;
}

inline void dw_grad_w_rows(const DwGradPlane& p, const float* x, const float* dy, float* acc) {
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const int64_t off = kw * p.dw - p.pl;
      int64_t lo, hi;
      dw_valid_cols(p, off, lo, hi);
      float s = 0.f;
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
        if (ih < 0 || ih >= p.h) continue;
        const float* dyr = dy + oh * p.ow;
        const float* xr = x + ih * p.w + off;
        if (p.sw == 1) {
#pragma omp simd reduction(+ : s)
          for (int64_t ow = lo; ow < hi; ++ow) s += dyr[ow] * xr[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) s += dyr[ow] * xr[ow * p.sw];
        }
      }
      acc[kh * p.kw + kw] += s;
    }
}

// The flat layout (dw_grad.h): sh·sw phase planes of Hh × Wh floats (+ slack zeros), phase
// (pr, pc) holding the padded plane's rows pr, pr + sh, ... and columns pc, pc + sw, ...; output
// position q = oh·Wh + ow reads tap (kh, kw) at phase ((kh·dh) mod sh, (kw·dw) mod sw), flat
// index q + (kh·dh / sh)·Wh + kw·dw / sw. dy is widened to Wh columns (zeros past ow).
struct DwFlat {
  int64_t hh, wh, plane, slack;  // plane: floats per phase including slack
};
inline DwFlat dw_flat(const DwGradPlane& p) {
  DwFlat f;
  f.hh = p.oh + (p.kh - 1) * p.dh / p.sh;
  f.wh = p.ow + (p.kw - 1) * p.dw / p.sw;
  f.slack = (p.kw - 1) * p.dw / p.sw;
  f.plane = f.hh * f.wh + f.slack;
  return f;
}
// Flat pays when the widened columns are a modest share of the computed ones.
inline bool dw_flat_pays(const DwGradPlane& p) {
  const DwFlat f = dw_flat(p);
  return 4 * (f.wh - p.ow) <= f.wh;
}
// Scratch: the phases (x or dx), then dy widened.
inline size_t dw_flat_floats(const DwGradPlane& p) {
  const DwFlat f = dw_flat(p);
  return static_cast<size_t>(p.sh * p.sw * f.plane + p.oh * f.wh);
}

inline void dw_widen_dy(const DwGradPlane& p, const DwFlat& f, const float* dy, float* dyw) {
  for (int64_t r = 0; r < p.oh; ++r) {
    float* d = dyw + r * f.wh;
    const float* s = dy + r * p.ow;
    for (int64_t c = 0; c < p.ow; ++c) d[c] = s[c];
    for (int64_t c = p.ow; c < f.wh; ++c) d[c] = 0.f;
  }
}

inline int64_t dw_tap_offset(const DwGradPlane& p, const DwFlat& f, int64_t kh, int64_t kw) {
  const int64_t ph = (kh * p.dh) % p.sh, pc = (kw * p.dw) % p.sw;
  return (ph * p.sw + pc) * f.plane + (kh * p.dh / p.sh) * f.wh + kw * p.dw / p.sw;
}

inline void dw_grad_w_flat(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch) {
  const DwFlat f = dw_flat(p);
  float* dyw = scratch + p.sh * p.sw * f.plane;
  for (int64_t pr = 0; pr < p.sh; ++pr)
    for (int64_t pc = 0; pc < p.sw; ++pc) {
      float* ph = scratch + (pr * p.sw + pc) * f.plane;
      for (int64_t i = 0; i < f.hh; ++i) {
        float* d = ph + i * f.wh;
        const int64_t r = i * p.sh + pr - p.pt;
        if (r < 0 || r >= p.h) {
          for (int64_t j = 0; j < f.wh; ++j) d[j] = 0.f;
          continue;
        }
        const float* xr = x + r * p.w;
        if (p.sw == 1) {  // inside columns j in [pl, pl + w): a plain copy
          const int64_t j0 = p.pl < f.wh ? p.pl : f.wh, j1 = p.pl + p.w < f.wh ? p.pl + p.w : f.wh;
          for (int64_t j = 0; j < j0; ++j) d[j] = 0.f;
          for (int64_t j = j0; j < j1; ++j) d[j] = xr[j - p.pl];
          for (int64_t j = j1; j < f.wh; ++j) d[j] = 0.f;
        } else {
          for (int64_t j = 0; j < f.wh; ++j) {
            const int64_t col = j * p.sw + pc - p.pl;
            d[j] = col >= 0 && col < p.w ? xr[col] : 0.f;
          }
        }
      }
      for (int64_t j = 0; j < f.slack; ++j) ph[f.hh * f.wh + j] = 0.f;
    }
  dw_widen_dy(p, f, dy, dyw);
  const int64_t n = p.oh * f.wh;
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const float* xs = scratch + dw_tap_offset(p, f, kh, kw);
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int64_t q = 0; q < n; ++q) s += dyw[q] * xs[q];
      acc[kh * p.kw + kw] += s;
    }
}

// dx += the taps scattered through dx phases: each padded position (R, C) is phase
// (R mod sh, C mod sw) at (R / sh, C / sw); positions past the phases get nothing.
inline void dw_grad_x_flat(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch) {
  const DwFlat f = dw_flat(p);
  float* dyw = scratch + p.sh * p.sw * f.plane;
  for (int64_t i = 0, n = p.sh * p.sw * f.plane; i < n; ++i) scratch[i] = 0.f;
  dw_widen_dy(p, f, dy, dyw);
  const int64_t n = p.oh * f.wh;
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      float* ds = scratch + dw_tap_offset(p, f, kh, kw);
      const float wv = w[kh * p.kw + kw];
#pragma omp simd
      for (int64_t q = 0; q < n; ++q) ds[q] += wv * dyw[q];
    }
  for (int64_t r = 0; r < p.h; ++r) {
    const int64_t R = r + p.pt, i = R / p.sh;
    if (i >= f.hh) break;
    float* dr = dx + r * p.w;
    const float* rowbase = scratch + (R % p.sh) * p.sw * f.plane + i * f.wh;
    if (p.sw == 1) {
      const int64_t c1 = f.wh - p.pl < p.w ? f.wh - p.pl : p.w;
      const float* src = rowbase + p.pl;
#pragma omp simd
      for (int64_t c = 0; c < c1; ++c) dr[c] += src[c];
    } else {
      for (int64_t c = 0; c < p.w; ++c) {
        const int64_t C = c + p.pl, j = C / p.sw;
        if (j >= f.wh) break;
        dr[c] += rowbase[(C % p.sw) * f.plane + j];
      }
    }
  }
}

inline void dw_grad_w_body(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch) {
  if (dw_flat_pays(p)) dw_grad_w_flat(p, x, dy, acc, scratch);
  else dw_grad_w_rows(p, x, dy, acc);
}

inline void dw_grad_x_rows(const DwGradPlane& p, const float* dy, const float* w, float* dx) {
  for (int64_t kh = 0; kh < p.kh; ++kh)
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const int64_t off = kw * p.dw - p.pl;
      int64_t lo, hi;
      dw_valid_cols(p, off, lo, hi);
      const float wv = w[kh * p.kw + kw];
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
        if (ih < 0 || ih >= p.h) continue;
        const float* dyr = dy + oh * p.ow;
        float* dxr = dx + ih * p.w + off;
        if (p.sw == 1) {
#pragma omp simd
          for (int64_t ow = lo; ow < hi; ++ow) dxr[ow] += wv * dyr[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) dxr[ow * p.sw] += wv * dyr[ow];
        }
      }
    }
}

inline void dw_grad_x_body(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch) {
  if (dw_flat_pays(p)) dw_grad_x_flat(p, dy, w, dx, scratch);
  else dw_grad_x_rows(p, dy, w, dx);
}

}  // namespace
}  // namespace qforge::train
