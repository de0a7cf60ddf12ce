// The first layer's two sparse products on multi-hot input, as XLA FFI custom calls (see native.py).
//
//   gather:  out[r, :]  = sum of dense[word, :] over the words of row r        (forward:  multi_hot @ kernel)
//   scatter: grad[w, :] = sum of cot[r, :] over the rows r that hold word w    (gradient: multi_hotᵀ @ cotangent)
//
// Both read the batch as slices of an array of word ids: row r holds ids[begins[r]] to ids[ends[r] - 1] (every
// value is 1). The ids can be the batch's own CSR entries (begins = indptr[:-1], ends = indptr[1:]) or a whole
// split's flat ids, read where they lie, so that no step copies a batch's ids out of them.
//
// Why not XLA's own CSR kernel (Eigen): it reads a whole 4 KB kernel row per
// word id, about 67,000 of them per batch of 512 reviews at width 1024, from
// the last-level cache. Here the columns are cut into blocks of 32: a block
// of the whole kernel (10,000 × 32 floats, 1.28 MB) is first copied into a
// contiguous buffer that stays in the core's L2 cache, then every word id
// reads 128 bytes from it. Copying is needed: read in place, the block's
// rows sit 4 KB apart and share a few cache sets.
//
// Same numbers as Eigen's kernel, bit for bit: every output element is summed
// from 0 in the order of the CSR entries (for the gradient: in row order,
// the order of the transposed structure Eigen would read), and adding a
// float times the value 1 is exact. The blocks are spread over XLA's CPU
// thread pool; no two threads write the same element.
//
// Never outside the arrays: before any block is read or written, each call
// checks that every row's slice lies inside the ids and every id is a row of
// the table (one pass over the batch's ids, a few microseconds). A batch that
// fails is an OUT_OF_RANGE error in Python, naming what is wrong. The loaders
// already refuse such data (overfit.data.prepared); this makes the kernel
// safe whatever calls it.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using Ids = ffi::Buffer<ffi::S32>;
using Matrix = ffi::Buffer<ffi::F32, 2>;  // aliases: a comma in a type splits the macros' arguments
using MatrixResult = ffi::ResultBuffer<ffi::F32, 2>;
using Blocks = ffi::Buffer<ffi::F32, 3>;  // (width / 32, vocabulary, 32)
using BlocksResult = ffi::ResultBuffer<ffi::F32, 3>;

constexpr int64_t kBlock = 32;  // columns per block

// A block: 32 columns of the kernel (or of its gradient) for every word, word after word (vocabulary × 32). The
// last columns of a width that is not a multiple of 32 make a partial block, padded with zero columns to 16 when
// there are at most 16 of them (a word's row is then one 64-byte line: a narrow model reads half as much), else
// to 32. `vectors` below counts a block row's 16-float halves (2, or 1).
//
// The block code is written once (Code) over a vector of the width one instruction set's registers hold (AVX-512:
// 16 floats, AVX2: 8, x86-64's SSE2: 4) and compiled for each; the best the CPU has is picked once (isa()). Not one
// 16-float vector type for all: GCC splits a vector wider than the registers clumsily, and the AVX2 build of a
// 16-float running sum went through the stack and general registers at every word id (a gather 3× as long as the
// AVX-512 build's, and the training step 1.35× XLA's CSR's, on an AVX2-only EPYC: issue 31). Whatever the width,
// every output element is the same sum in the same order, so every build gives the same numbers.
#define OVERFIT_INLINE inline __attribute__((always_inline))

// OVERFIT_MAX_ISA_AVX2 or _SSE2 (native.py: OVERFIT_NATIVE_ISA) leave the wider builds out, so that a machine that
// has AVX-512 runs, measures and tests what a CPU with only AVX2, or only x86-64's SSE2, runs.
#if defined(OVERFIT_MAX_ISA_SSE2)
#define OVERFIT_AVX2 0
#define OVERFIT_AVX512 0
#define OVERFIT_CLONES
#elif defined(OVERFIT_MAX_ISA_AVX2)
#define OVERFIT_AVX2 1
#define OVERFIT_AVX512 0
#define OVERFIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OVERFIT_AVX2 1
#define OVERFIT_AVX512 1
#define OVERFIT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

template <int kLanes>
struct Code {
  // aligned(4): the rows of a block and of XLA's buffers are read and written where they lie, 4-byte aligned at least.
  // (Declared here: a typedef's alignment does not survive being passed as a template argument.)
  typedef float V __attribute__((vector_size(4 * kLanes), aligned(4)));

  // out[r, c0:c0 + N × lanes] = the sum of the block's rows of row r's words, from 0, in entry order. Two rows at a
  // time: their sums are independent chains of additions, so the core adds for one while the other waits.
  template <int N>
  static OVERFIT_INLINE void gather(const int32_t* begins, const int32_t* ends, const int32_t* ids, const V* block,
                                    float* out, int64_t rows, int64_t width, int64_t c0) {
    int64_t r = 0;
    for (; r + 1 < rows; r += 2) {
      V a[N], b[N];
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) a[j] = b[j] = V{};
      int32_t ka = begins[r], kb = begins[r + 1];
      const int32_t ea = ends[r], eb = ends[r + 1];
      for (; ka < ea && kb < eb; ++ka, ++kb) {
        const V* x = block + N * static_cast<int64_t>(ids[ka]);
        const V* y = block + N * static_cast<int64_t>(ids[kb]);
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) {
          a[j] += x[j];
          b[j] += y[j];
        }
      }
      for (; ka < ea; ++ka) add<N>(a, block + N * static_cast<int64_t>(ids[ka]));
      for (; kb < eb; ++kb) add<N>(b, block + N * static_cast<int64_t>(ids[kb]));
      store<N>(out + r * width + c0, a);
      store<N>(out + (r + 1) * width + c0, b);
    }
    for (; r < rows; ++r) {
      V a[N];
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) a[j] = V{};
      for (int32_t k = begins[r]; k < ends[r]; ++k) add<N>(a, block + N * static_cast<int64_t>(ids[k]));
      store<N>(out + r * width + c0, a);
    }
  }

  // block[w] = the sum of cot[r, c0:c0 + N × lanes] over the rows r that hold word w, from 0, in row order.
  template <int N>
  static OVERFIT_INLINE void scatter(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* cot,
                                     V* block, int64_t rows, int64_t vocabulary, int64_t width, int64_t c0) {
    for (int64_t v = 0; v < N * vocabulary; ++v) block[v] = V{};
    for (int64_t r = 0; r < rows; ++r) {
      V source[N];
      const V* from = reinterpret_cast<const V*>(cot + r * width + c0);
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) source[j] = from[j];
      for (int32_t k = begins[r]; k < ends[r]; ++k) {
        V* row = block + N * static_cast<int64_t>(ids[k]);
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) row[j] += source[j];
      }
    }
  }

  template <int N>
  static OVERFIT_INLINE void add(V* sum, const V* row) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) sum[j] += row[j];
  }

  template <int N>
  static OVERFIT_INLINE void store(float* out, const V* sum) {
    V* target = reinterpret_cast<V*>(out);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) target[j] = sum[j];
  }

  // vectors: a row's 16-float halves, 1 or 2.
  static OVERFIT_INLINE void gather_block(const int32_t* begins, const int32_t* ends, const int32_t* ids,
                                          const float* block, float* out, int64_t rows, int64_t width, int64_t c0,
                                          int vectors) {
    const V* packed = reinterpret_cast<const V*>(block);
    if (vectors == 1) return gather<16 / kLanes>(begins, ends, ids, packed, out, rows, width, c0);
    gather<32 / kLanes>(begins, ends, ids, packed, out, rows, width, c0);
  }

  static OVERFIT_INLINE void scatter_block(const int32_t* begins, const int32_t* ends, const int32_t* ids,
                                           const float* cot, float* block, int64_t rows, int64_t vocabulary,
                                           int64_t width, int64_t c0, int vectors) {
    V* packed = reinterpret_cast<V*>(block);
    if (vectors == 1) return scatter<16 / kLanes>(begins, ends, ids, cot, packed, rows, vocabulary, width, c0);
    scatter<32 / kLanes>(begins, ends, ids, cot, packed, rows, vocabulary, width, c0);
  }

  // Copy the columns [c0, c0 + n) of a row-major (vocabulary, width) matrix into a block of rows of 16 × vectors.
  static OVERFIT_INLINE void pack(const float* dense, float* block, int64_t vocabulary, int64_t width, int64_t c0,
                                  int64_t n, int vectors) {
    if (n == kBlock) {
      V* packed = reinterpret_cast<V*>(block);
      constexpr int N = kBlock / kLanes;
      for (int64_t v = 0; v < vocabulary; ++v) {
        const V* source = reinterpret_cast<const V*>(dense + v * width + c0);
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) packed[N * v + j] = source[j];
      }
      return;
    }
    const int64_t span = 16 * vectors;
    for (int64_t v = 0; v < vocabulary; ++v) {
      float* row = block + v * span;
      std::fill(std::copy(dense + v * width + c0, dense + v * width + c0 + n, row), row + span, 0.0f);
    }
  }

  // The inverse: the first n columns of a block into the columns [c0, c0 + n) of a row-major matrix.
  static OVERFIT_INLINE void unpack(const float* block, float* dense, int64_t vocabulary, int64_t width, int64_t c0,
                                    int64_t n, int vectors) {
    if (n == kBlock) {
      const V* packed = reinterpret_cast<const V*>(block);
      constexpr int N = kBlock / kLanes;
      for (int64_t v = 0; v < vocabulary; ++v) {
        V* target = reinterpret_cast<V*>(dense + v * width + c0);
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) target[j] = packed[N * v + j];
      }
      return;
    }
    const int64_t span = 16 * vectors;
    for (int64_t v = 0; v < vocabulary; ++v) std::copy(block + v * span, block + v * span + n, dense + v * width + c0);
  }
};

// One instruction set's build of the block code.
struct Isa {
  const char* name;
  void (*gather_block)(const int32_t*, const int32_t*, const int32_t*, const float*, float*, int64_t, int64_t,
                       int64_t, int);
  void (*scatter_block)(const int32_t*, const int32_t*, const int32_t*, const float*, float*, int64_t, int64_t,
                        int64_t, int64_t, int);
  void (*pack)(const float*, float*, int64_t, int64_t, int64_t, int64_t, int);
  void (*unpack)(const float*, float*, int64_t, int64_t, int64_t, int64_t, int);
};

#define OVERFIT_BUILD(NAME, TARGET, LANES)                                                                             \
  __attribute__((target(TARGET))) void gather_##NAME(const int32_t* b, const int32_t* e, const int32_t* i,       \
                                                     const float* k, float* o, int64_t r, int64_t w, int64_t c,  \
                                                     int n) {                                                    \
    Code<LANES>::gather_block(b, e, i, k, o, r, w, c, n);                                                            \
  }                                                                                                              \
  __attribute__((target(TARGET))) void scatter_##NAME(const int32_t* b, const int32_t* e, const int32_t* i,      \
                                                      const float* s, float* k, int64_t r, int64_t v, int64_t w, \
                                                      int64_t c, int n) {                                        \
    Code<LANES>::scatter_block(b, e, i, s, k, r, v, w, c, n);                                                        \
  }                                                                                                              \
  __attribute__((target(TARGET))) void pack_##NAME(const float* d, float* k, int64_t v, int64_t w, int64_t c,    \
                                                   int64_t n, int m) {                                           \
    Code<LANES>::pack(d, k, v, w, c, n, m);                                                                          \
  }                                                                                                              \
  __attribute__((target(TARGET))) void unpack_##NAME(const float* k, float* d, int64_t v, int64_t w, int64_t c,  \
                                                     int64_t n, int m) {                                         \
    Code<LANES>::unpack(k, d, v, w, c, n, m);                                                                        \
  }                                                                                                              \
  constexpr Isa NAME = {#NAME, gather_##NAME, scatter_##NAME, pack_##NAME, unpack_##NAME};

#if OVERFIT_AVX512
OVERFIT_BUILD(avx512f, "avx512f", 16)
#endif
#if OVERFIT_AVX2
OVERFIT_BUILD(avx2, "avx2", 8)
#endif
OVERFIT_BUILD(sse2, "sse2", 4)

// The widest build this CPU runs, picked on the first call.
const Isa& isa() {
  static const Isa chosen = [] {
    __builtin_cpu_init();
#if OVERFIT_AVX512
    if (__builtin_cpu_supports("avx512f")) return avx512f;
#endif
#if OVERFIT_AVX2
    if (__builtin_cpu_supports("avx2")) return avx2;
#endif
    return sse2;
  }();
  return chosen;
}

void gather_block(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* block, float* out,
                  int64_t rows, int64_t width, int64_t c0, int vectors = 2) {
  isa().gather_block(begins, ends, ids, block, out, rows, width, c0, vectors);
}

void scatter_block(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* cot, float* block,
                   int64_t rows, int64_t vocabulary, int64_t width, int64_t c0, int vectors = 2) {
  isa().scatter_block(begins, ends, ids, cot, block, rows, vocabulary, width, c0, vectors);
}

void pack(const float* dense, float* block, int64_t vocabulary, int64_t width, int64_t c0, int64_t n, int vectors) {
  isa().pack(dense, block, vocabulary, width, c0, n, vectors);
}

void unpack(const float* block, float* dense, int64_t vocabulary, int64_t width, int64_t c0, int64_t n, int vectors) {
  isa().unpack(block, dense, vocabulary, width, c0, n, vectors);
}

// Every row's slice [begins[r], ends[r]) inside the `count` ids, and every id in it a row of a table of
// `vocabulary` rows. Negative ids wrap to large unsigned values, so one unsigned maximum covers both bounds.
OVERFIT_CLONES
bool inside(const int32_t* begins, const int32_t* ends, const int32_t* ids, int64_t rows, int64_t count,
            int64_t vocabulary) {
#ifdef OVERFIT_UNCHECKED_BASELINE  // only benchmarks/kernel_check.py defines it: the check's cost, measured
  return true;
#endif
  uint32_t largest = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t b = begins[r], e = ends[r];
    if (b < 0 || e < b || e > count) return false;
    for (int32_t k = b; k < e; ++k) largest = std::max(largest, static_cast<uint32_t>(ids[k]));
  }
  return static_cast<int64_t>(largest) < vocabulary;
}

ffi::Future refused(const char* call) {
  ffi::Promise failed;
  failed.SetError(ffi::Error(ffi::ErrorCode::kOutOfRange,
                             std::string(call) + ": a row's word ids run outside the ids array, or a word id is not a "
                             "row of the first layer's kernel (negative, or not below its vocabulary); refused "
                             "before reading or writing anything"));
  return ffi::Future(failed);
}

// A partial block: the same code through buffers padded to the block's width. Its columns are summed in the
// same order as any other.
struct Partial {
  int64_t n;       // its columns
  int vectors;     // vectors of 16 per row: 1 up to 16 columns, else 2
  int64_t span;    // the padded width
  std::unique_ptr<float[]> rows;  // a (rows, span) buffer of the product's side
  Partial(int64_t width, int64_t c0, int64_t count)
      : n(width - c0), vectors(n <= 16 ? 1 : 2), span(16 * vectors), rows(new float[count * span]) {}
};

void gather_partial(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* dense, float* out,
                    float* block, int64_t rows, int64_t vocabulary, int64_t width, int64_t c0) {
  Partial p(width, c0, rows);
  pack(dense, block, vocabulary, width, c0, p.n, p.vectors);
  gather_block(begins, ends, ids, block, p.rows.get(), rows, p.span, 0, p.vectors);
  for (int64_t r = 0; r < rows; ++r) std::copy(&p.rows[r * p.span], &p.rows[r * p.span] + p.n, out + r * width + c0);
}

void scatter_partial(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* cot, float* grad,
                     float* block, int64_t rows, int64_t vocabulary, int64_t width, int64_t c0) {
  Partial p(width, c0, rows);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = &p.rows[r * p.span];
    std::fill(std::copy(cot + r * width + c0, cot + r * width + width, row), row + p.span, 0.0f);
  }
  scatter_block(begins, ends, ids, p.rows.get(), block, rows, vocabulary, p.span, 0, p.vectors);
  unpack(block, grad, vocabulary, width, c0, p.n, p.vectors);
}

// Runs block(b, scratch) for each of ``count`` blocks, split over the pool's threads; scratch: a block-sized
// buffer of the thread's own, where the caller asks for one.
template <typename Block>
ffi::Future over_blocks(ffi::ThreadPool& pool, int64_t count, int64_t vocabulary, bool scratch, Block block) {
  auto part = [=](int64_t first, int64_t last) {
    std::unique_ptr<float[]> buffer(scratch && last > first ? new float[vocabulary * kBlock] : nullptr);
    for (int64_t b = first; b < last; ++b) block(b, buffer.get());
  };
  const int64_t tasks = std::min<int64_t>(count, pool.num_threads());
  if (tasks <= 1) {
    part(0, count);
    ffi::Promise done;
    done.SetAvailable();
    return ffi::Future(done);
  }
  ffi::CountDownPromise done(tasks);
  ffi::Future future(done);
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t first = count * t / tasks, last = count * (t + 1) / tasks;
    pool.Schedule([=]() mutable {
      part(first, last);
      done.CountDown();
    });
  }
  return future;
}

int64_t blocks_of(int64_t width) { return (width + kBlock - 1) / kBlock; }

// One slice per row of the product.
bool shapes_agree(const Ids& begins, const Ids& ends, int64_t rows) {
  return begins.element_count() == static_cast<size_t>(rows) && ends.element_count() == static_cast<size_t>(rows);
}

// The kernel row-major (vocabulary, width): each block packed, then read.
ffi::Future Gather(Ids ids, Ids begins, Ids ends, Matrix dense, MatrixResult out, ffi::ThreadPool pool) {
  const int32_t* rb = begins.typed_data();
  const int32_t* re = ends.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* d = dense.typed_data();
  float* o = out->typed_data();
  const int64_t rows = out->dimensions()[0], vocabulary = dense.dimensions()[0], width = dense.dimensions()[1];
  if (!shapes_agree(begins, ends, rows) || out->dimensions()[1] != width ||
      !inside(rb, re, ix, rows, ids.element_count(), vocabulary))
    return refused("overfit_csr_gather");
  return over_blocks(pool, blocks_of(width), vocabulary, true, [=](int64_t b, float* block) {
    const int64_t c0 = b * kBlock;
    if (c0 + kBlock > width) return gather_partial(rb, re, ix, d, o, block, rows, vocabulary, width, c0);
    pack(d, block, vocabulary, width, c0, kBlock, 2);
    gather_block(rb, re, ix, block, o, rows, width, c0);
  });
}

// The gradient row-major (vocabulary, width): each block summed, then unpacked.
ffi::Future Scatter(Ids ids, Ids begins, Ids ends, Matrix cot, MatrixResult grad, ffi::ThreadPool pool) {
  const int32_t* rb = begins.typed_data();
  const int32_t* re = ends.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* s = cot.typed_data();
  float* g = grad->typed_data();
  const int64_t rows = cot.dimensions()[0], vocabulary = grad->dimensions()[0], width = cot.dimensions()[1];
  if (!shapes_agree(begins, ends, rows) || grad->dimensions()[1] != width ||
      !inside(rb, re, ix, rows, ids.element_count(), vocabulary))
    return refused("overfit_csr_scatter");
  return over_blocks(pool, blocks_of(width), vocabulary, true, [=](int64_t b, float* block) {
    const int64_t c0 = b * kBlock;
    if (c0 + kBlock > width) return scatter_partial(rb, re, ix, s, g, block, rows, vocabulary, width, c0);
    scatter_block(rb, re, ix, s, block, rows, vocabulary, width, c0);
    unpack(block, g, vocabulary, width, c0, kBlock, 2);
  });
}

// The kernel already in blocks (width / 32, vocabulary, 32): no copies.
ffi::Future GatherBlocks(Ids ids, Ids begins, Ids ends, Blocks blocks, MatrixResult out, ffi::ThreadPool pool) {
  const int32_t* rb = begins.typed_data();
  const int32_t* re = ends.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* d = blocks.typed_data();
  float* o = out->typed_data();
  const int64_t rows = out->dimensions()[0], count = blocks.dimensions()[0], vocabulary = blocks.dimensions()[1];
  if (!shapes_agree(begins, ends, rows) || out->dimensions()[1] != count * kBlock ||
      !inside(rb, re, ix, rows, ids.element_count(), vocabulary))
    return refused("overfit_csr_gather_blocks");
  return over_blocks(pool, count, vocabulary, false, [=](int64_t b, float*) {
    gather_block(rb, re, ix, d + b * vocabulary * kBlock, o, rows, count * kBlock, b * kBlock);
  });
}

ffi::Future ScatterBlocks(Ids ids, Ids begins, Ids ends, Matrix cot, BlocksResult grad, ffi::ThreadPool pool) {
  const int32_t* rb = begins.typed_data();
  const int32_t* re = ends.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* s = cot.typed_data();
  float* g = grad->typed_data();
  const int64_t rows = cot.dimensions()[0], count = grad->dimensions()[0], vocabulary = grad->dimensions()[1];
  if (!shapes_agree(begins, ends, rows) || cot.dimensions()[1] != count * kBlock ||
      !inside(rb, re, ix, rows, ids.element_count(), vocabulary))
    return refused("overfit_csr_scatter_blocks");
  return over_blocks(pool, count, vocabulary, false, [=](int64_t b, float*) {
    scatter_block(rb, re, ix, s, g + b * vocabulary * kBlock, rows, vocabulary, count * kBlock, b * kBlock);
  });
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_gather, Gather,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // where each row's ids begin (rows)
                                  .Arg<Ids>()     // and end (rows)
                                  .Arg<Matrix>()  // kernel (vocabulary, width)
                                  .Ret<Matrix>()  // (rows, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_scatter, Scatter,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // where each row's ids begin (rows)
                                  .Arg<Ids>()     // and end (rows)
                                  .Arg<Matrix>()  // cotangent (rows, width)
                                  .Ret<Matrix>()  // kernel gradient (vocabulary, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_gather_blocks, GatherBlocks,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // where each row's ids begin (rows)
                                  .Arg<Ids>()     // and end (rows)
                                  .Arg<Blocks>()  // kernel in blocks (width / 32, vocabulary, 32)
                                  .Ret<Matrix>()  // (rows, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_scatter_blocks, ScatterBlocks,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // where each row's ids begin (rows)
                                  .Arg<Ids>()     // and end (rows)
                                  .Arg<Matrix>()  // cotangent (rows, width)
                                  .Ret<Blocks>()  // kernel gradient in blocks (width / 32, vocabulary, 32)
                                  .Ctx<ffi::ThreadPool>());

// Which build of the block code this CPU runs (avx512f, avx2 or sse2): for tests and benchmarks.
extern "C" __attribute__((visibility("default"))) const char* overfit_csr_isa() { return isa().name; }
