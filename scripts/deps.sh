# Debian 12 packages qforge needs to build, test and run its demo: the one list, sourced by
# scripts/setup.sh and scripts/test.sh (and through test.sh by .ci/run).
# shellcheck shell=bash

QFORGE_APT_PACKAGES=(
  build-essential cmake clang libomp-dev            # C++20 toolchain (clang++ 14), OpenMP
  libonnx-dev libprotobuf-dev protobuf-compiler     # ONNX protobuf classes
  zlib1g-dev libpng-dev libjpeg-dev libstb-dev      # gzip IDX files, PNG/JPEG image folders
  libgtest-dev libgmock-dev libbenchmark-dev        # unit tests, benchmarks
  libcli11-dev nlohmann-json3-dev libfmt-dev        # CLI options, JSON output, formatting
  dataset-fashion-mnist                             # the demo's and tests' dataset
  python3 python3-venv                              # oracle tests only (ONNX Runtime in a venv)
  libclang-rt-14-dev llvm                           # libFuzzer + sanitizer runtimes, llvm-symbolizer (issue 7)
  libdnnl-dev                                       # oneDNN: the peer of bench/bench_qgemm_vs_dnnl only
)

qforge_log() { printf '[qforge] %s\n' "$*" >&2; }

qforge_is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

qforge_has_candidate() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

# Installs the packages that dpkg does not report as installed; does nothing (and needs no root)
# when all are present. apt-get update runs only when something is missing.
qforge_install_deps() {
  local missing=() p
  for p in "${QFORGE_APT_PACKAGES[@]}"; do
    qforge_is_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    qforge_log "all ${#QFORGE_APT_PACKAGES[@]} Debian packages are installed"
    return 0
  fi
  qforge_log "missing Debian packages: ${missing[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    qforge_log "error: installing them needs root; run this script as root"
    return 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  local unavailable=()
  for p in "${missing[@]}"; do
    qforge_has_candidate "$p" || unavailable+=("$p")
  done
  if ((${#unavailable[@]} > 0)); then
    qforge_log "error: not available from the configured apt sources: ${unavailable[*]} (qforge targets Debian 12)"
    return 2
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# Configures build/ with clang++ (CMake keeps the compiler of an existing build folder).
qforge_configure() {
  local root="$1" build="$2"
  CXX="${CXX:-clang++}" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
}
