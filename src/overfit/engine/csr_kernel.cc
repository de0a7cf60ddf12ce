// The first layer's two sparse products on multi-hot input, as XLA FFI custom calls (see native.py).
//
//   gather:  out[r, :]  = sum of dense[word, :] over the words of row r        (forward:  multi_hot @ kernel)
//   scatter: grad[w, :] = sum of cot[r, :] over the rows r that hold word w    (gradient: multi_hotᵀ @ cotangent)
//
// Both read the batch's CSR structure (indptr, word ids; every value is 1).
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

#include <algorithm>
#include <cstdint>
#include <memory>

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

// A block: 32 columns of the kernel (or of its gradient) for every word, word after word (vocabulary × 32).

// Copy the columns [c0, c0 + 32) of a row-major (vocabulary, width) matrix into a block.
__attribute__((target_clones("avx512f", "avx2", "default")))
void pack(const float* dense, float* block, int64_t vocabulary, int64_t width, int64_t c0) {
  v16* packed = reinterpret_cast<v16*>(block);
  for (int64_t v = 0; v < vocabulary; ++v) {
    const v16* source = reinterpret_cast<const v16*>(dense + v * width + c0);
    packed[2 * v] = source[0];
    packed[2 * v + 1] = source[1];
  }
}

// The inverse: a block into the columns [c0, c0 + 32) of a row-major matrix.
__attribute__((target_clones("avx512f", "avx2", "default")))
void unpack(const float* block, float* dense, int64_t vocabulary, int64_t width, int64_t c0) {
  const v16* packed = reinterpret_cast<const v16*>(block);
  for (int64_t v = 0; v < vocabulary; ++v) {
    v16* target = reinterpret_cast<v16*>(dense + v * width + c0);
    target[0] = packed[2 * v];
    target[1] = packed[2 * v + 1];
  }
}

// out[r, c0:c0 + 32] = the sum of the block's rows of row r's words, from 0, in entry order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void gather_block(const int32_t* indptr, const int32_t* ids, const float* block, float* out, int64_t rows,
                  int64_t width, int64_t c0) {
  const v16* packed = reinterpret_cast<const v16*>(block);
  for (int64_t r = 0; r < rows; ++r) {
    v16 low = {0}, high = {0};
    for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      const v16* row = packed + 2 * static_cast<int64_t>(ids[k]);
      low += row[0];
      high += row[1];
    }
    v16* target = reinterpret_cast<v16*>(out + r * width + c0);
    target[0] = low;
    target[1] = high;
  }
}

// block[w] = the sum of cot[r, c0:c0 + 32] over the rows r that hold word w, from 0, in row order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void scatter_block(const int32_t* indptr, const int32_t* ids, const float* cot, float* block, int64_t rows,
                   int64_t vocabulary, int64_t width, int64_t c0) {
  v16* packed = reinterpret_cast<v16*>(block);
  const v16 zero = {0};
  for (int64_t v = 0; v < 2 * vocabulary; ++v) packed[v] = zero;
  for (int64_t r = 0; r < rows; ++r) {
    const v16* source = reinterpret_cast<const v16*>(cot + r * width + c0);
    const v16 low = source[0], high = source[1];
    for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      v16* row = packed + 2 * static_cast<int64_t>(ids[k]);
      row[0] += low;
      row[1] += high;
    }
  }
}

// The last width % 32 columns, element by element, in the same order.
void gather_tail(const int32_t* indptr, const int32_t* ids, const float* dense, float* out, int64_t rows,
                 int64_t width, int64_t c0) {
  for (int64_t r = 0; r < rows; ++r) {
    float* target = out + r * width;
    std::fill(target + c0, target + width, 0.0f);
    for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      const float* row = dense + static_cast<int64_t>(ids[k]) * width;
      for (int64_t c = c0; c < width; ++c) target[c] += row[c];
    }
  }
}

void scatter_tail(const int32_t* indptr, const int32_t* ids, const float* cot, float* grad, int64_t rows,
                  int64_t vocabulary, int64_t width, int64_t c0) {
  for (int64_t v = 0; v < vocabulary; ++v) std::fill(grad + v * width + c0, grad + (v + 1) * width, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float* source = cot + r * width;
    for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) {
      float* row = grad + static_cast<int64_t>(ids[k]) * width;
      for (int64_t c = c0; c < width; ++c) row[c] += source[c];
    }
  }
}

// Runs block(b, scratch) for every whole block b and tail(c0) for the columns after them, the blocks split over
// the pool's threads; scratch: a block-sized buffer of the thread's own, where the caller asks for one.
template <typename Block, typename Tail>
ffi::Future over_blocks(ffi::ThreadPool& pool, int64_t blocks, int64_t vocabulary, bool scratch, Block block,
                        Tail tail) {
  auto part = [=](int64_t first, int64_t last, bool with_tail) {
    std::unique_ptr<float[]> buffer(scratch && last > first ? new float[vocabulary * kBlock] : nullptr);
    for (int64_t b = first; b < last; ++b) block(b, buffer.get());
    if (with_tail) tail(blocks * kBlock);
  };
  const int64_t tasks = std::min<int64_t>(blocks, pool.num_threads());
  if (tasks <= 1) {
    part(0, blocks, true);
    ffi::Promise done;
    done.SetAvailable();
    return ffi::Future(done);
  }
  ffi::CountDownPromise done(tasks);
  ffi::Future future(done);
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t first = blocks * t / tasks, last = blocks * (t + 1) / tasks;
    pool.Schedule([=]() mutable {
      part(first, last, t == tasks - 1);
      done.CountDown();
    });
  }
  return future;
}

void no_tail(int64_t) {}

// The kernel row-major (vocabulary, width): each block packed, then read.
ffi::Future Gather(Ids ids, Ids indptr, Matrix dense, MatrixResult out, ffi::ThreadPool pool) {
  const int32_t* ip = indptr.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* d = dense.typed_data();
  float* o = out->typed_data();
  const int64_t rows = out->dimensions()[0], vocabulary = dense.dimensions()[0], width = dense.dimensions()[1];
  return over_blocks(
      pool, width / kBlock, vocabulary, true,
      [=](int64_t b, float* block) {
        pack(d, block, vocabulary, width, b * kBlock);
        gather_block(ip, ix, block, o, rows, width, b * kBlock);
      },
      [=](int64_t c0) { gather_tail(ip, ix, d, o, rows, width, c0); });
}

// The gradient row-major (vocabulary, width): each block summed, then unpacked.
ffi::Future Scatter(Ids ids, Ids indptr, Matrix cot, MatrixResult grad, ffi::ThreadPool pool) {
  const int32_t* ip = indptr.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* s = cot.typed_data();
  float* g = grad->typed_data();
  const int64_t rows = cot.dimensions()[0], vocabulary = grad->dimensions()[0], width = cot.dimensions()[1];
  return over_blocks(
      pool, width / kBlock, vocabulary, true,
      [=](int64_t b, float* block) {
        scatter_block(ip, ix, s, block, rows, vocabulary, width, b * kBlock);
        unpack(block, g, vocabulary, width, b * kBlock);
      },
      [=](int64_t c0) { scatter_tail(ip, ix, s, g, rows, vocabulary, width, c0); });
}

// The kernel already in blocks (width / 32, vocabulary, 32): no copies.
ffi::Future GatherBlocks(Ids ids, Ids indptr, Blocks blocks, MatrixResult out, ffi::ThreadPool pool) {
  const int32_t* ip = indptr.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* d = blocks.typed_data();
  float* o = out->typed_data();
  const int64_t rows = out->dimensions()[0], count = blocks.dimensions()[0], vocabulary = blocks.dimensions()[1];
  return over_blocks(
      pool, count, vocabulary, false,
      [=](int64_t b, float*) { gather_block(ip, ix, d + b * vocabulary * kBlock, o, rows, count * kBlock, b * kBlock); },
      no_tail);
}

ffi::Future ScatterBlocks(Ids ids, Ids indptr, Matrix cot, BlocksResult grad, ffi::ThreadPool pool) {
  const int32_t* ip = indptr.typed_data();
  const int32_t* ix = ids.typed_data();
  const float* s = cot.typed_data();
  float* g = grad->typed_data();
  const int64_t rows = cot.dimensions()[0], count = grad->dimensions()[0], vocabulary = grad->dimensions()[1];
  return over_blocks(
      pool, count, vocabulary, false,
      [=](int64_t b, float*) {
        scatter_block(ip, ix, s, g + b * vocabulary * kBlock, rows, vocabulary, count * kBlock, b * kBlock);
      },
      no_tail);
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_gather, Gather,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // indptr (rows + 1)
                                  .Arg<Matrix>()  // kernel (vocabulary, width)
                                  .Ret<Matrix>()  // (rows, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_scatter, Scatter,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // indptr (rows + 1)
                                  .Arg<Matrix>()  // cotangent (rows, width)
                                  .Ret<Matrix>()  // kernel gradient (vocabulary, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_gather_blocks, GatherBlocks,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // indptr (rows + 1)
                                  .Arg<Blocks>()  // kernel in blocks (width / 32, vocabulary, 32)
                                  .Ret<Matrix>()  // (rows, width)
                                  .Ctx<ffi::ThreadPool>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(overfit_csr_scatter_blocks, ScatterBlocks,
                              ffi::Ffi::Bind()
                                  .Arg<Ids>()     // word ids
                                  .Arg<Ids>()     // indptr (rows + 1)
                                  .Arg<Matrix>()  // cotangent (rows, width)
                                  .Ret<Blocks>()  // kernel gradient in blocks (width / 32, vocabulary, 32)
                                  .Ctx<ffi::ThreadPool>());
