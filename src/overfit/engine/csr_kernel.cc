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

constexpr int64_t kBlock = 32;  // columns per block: two 16-float vectors
typedef float v16 __attribute__((vector_size(64), aligned(4)));

// A block: 32 columns of the kernel (or of its gradient) for every word, word after word (vocabulary × 32). The
// last columns of a width that is not a multiple of 32 make a partial block, padded with zero columns to 16 when
// there are at most 16 of them (a word's row is then one 64-byte line: a narrow model reads half as much), else
// to 32. A block's row is `vectors` (2, or 1) vectors of 16.

// Copy the columns [c0, c0 + n) of a row-major (vocabulary, width) matrix into a block of rows of 16 × vectors.
__attribute__((target_clones("avx512f", "avx2", "default")))
void pack(const float* dense, float* block, int64_t vocabulary, int64_t width, int64_t c0, int64_t n, int vectors) {
  v16* packed = reinterpret_cast<v16*>(block);
  if (n == kBlock) {
    for (int64_t v = 0; v < vocabulary; ++v) {
      const v16* source = reinterpret_cast<const v16*>(dense + v * width + c0);
      packed[2 * v] = source[0];
      packed[2 * v + 1] = source[1];
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
__attribute__((target_clones("avx512f", "avx2", "default")))
void unpack(const float* block, float* dense, int64_t vocabulary, int64_t width, int64_t c0, int64_t n, int vectors) {
  const v16* packed = reinterpret_cast<const v16*>(block);
  if (n == kBlock) {
    for (int64_t v = 0; v < vocabulary; ++v) {
      v16* target = reinterpret_cast<v16*>(dense + v * width + c0);
      target[0] = packed[2 * v];
      target[1] = packed[2 * v + 1];
    }
    return;
  }
  const int64_t span = 16 * vectors;
  for (int64_t v = 0; v < vocabulary; ++v) std::copy(block + v * span, block + v * span + n, dense + v * width + c0);
}

// out[r, c0:c0 + 16 × vectors] = the sum of the block's rows of row r's words, from 0, in entry order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void gather_block(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* block, float* out,
                  int64_t rows, int64_t width, int64_t c0, int vectors = 2) {
  const v16* packed = reinterpret_cast<const v16*>(block);
  for (int64_t r = 0; r < rows; ++r) {
    v16* target = reinterpret_cast<v16*>(out + r * width + c0);
    if (vectors == 1) {
      v16 sum = {0};
      for (int32_t k = begins[r]; k < ends[r]; ++k) sum += packed[ids[k]];
      target[0] = sum;
      continue;
    }
    v16 low = {0}, high = {0};
    for (int32_t k = begins[r]; k < ends[r]; ++k) {
      const v16* row = packed + 2 * static_cast<int64_t>(ids[k]);
      low += row[0];
      high += row[1];
    }
    target[0] = low;
    target[1] = high;
  }
}

// block[w] = the sum of cot[r, c0:c0 + 16 × vectors] over the rows r that hold word w, from 0, in row order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void scatter_block(const int32_t* begins, const int32_t* ends, const int32_t* ids, const float* cot, float* block,
                   int64_t rows, int64_t vocabulary, int64_t width, int64_t c0, int vectors = 2) {
  v16* packed = reinterpret_cast<v16*>(block);
  const v16 zero = {0};
  for (int64_t v = 0; v < vectors * vocabulary; ++v) packed[v] = zero;
  for (int64_t r = 0; r < rows; ++r) {
    const v16* source = reinterpret_cast<const v16*>(cot + r * width + c0);
    if (vectors == 1) {
      const v16 only = source[0];
      for (int32_t k = begins[r]; k < ends[r]; ++k) packed[ids[k]] += only;
      continue;
    }
    const v16 low = source[0], high = source[1];
    for (int32_t k = begins[r]; k < ends[r]; ++k) {
      v16* row = packed + 2 * static_cast<int64_t>(ids[k]);
      row[0] += low;
      row[1] += high;
    }
  }
}

// Every row's slice [begins[r], ends[r]) inside the `count` ids, and every id in it a row of a table of
// `vocabulary` rows. Negative ids wrap to large unsigned values, so one unsigned maximum covers both bounds.
__attribute__((target_clones("avx512f", "avx2", "default")))
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
