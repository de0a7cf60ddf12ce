"""The engine against its floor, stacks of narrow models against training them alone, and peak memory.

    .venv/bin/python benchmarks/engine.py [--widths 4 16 512 1024] [--epochs 20] [--rounds 2]
    .venv/bin/python benchmarks/engine.py --profile 1024     # where one training step's time goes
    .venv/bin/python benchmarks/engine.py --dense-path       # the dense path (images) against the dense reference
    .venv/bin/python benchmarks/engine.py --isa avx2 ...     # as an AVX2-only CPU runs it (see emulate)

Every measurement trains on the 3.5 hold-out (15,000 training, 10,000
validation reviews): one model-epoch = its 30 training steps (batches of 512)
and the validation pass. Compilation is excluded (a warm-up call first);
measurements alternate so that all see the same machine state.

The floor of a model-epoch (benchmarks/floor.py) is what this machine cannot
beat: its float32 FLOPs at the dense matmul rate plus its unavoidable memory
traffic at the bandwidth of a streaming update, both measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from floor import machine_rates, model_epoch_floor, review_stats, timed, update_seconds

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "results" / "data" / "imdb"
TRAIN_ROWS, VALIDATION_ROWS, BATCH = np.arange(10000, 25000), np.arange(10000), 512
SEGMENT_UP_TO = 64  # gather + segment_sum, timed up to this width (far slower above)
used = {}  # (specs, mode, kernel asked for) → the kernel the trainer trained with (auto: engine.choice's pick)


# What limits this process to an instruction set, on a machine that has more: the compiled kernel without its
# AVX-512 clone (engine.native), XLA's generated code, and the floor's matmul (numpy's OpenBLAS; floor.py says why).
ISA_ENV = {"avx2": {"OVERFIT_NATIVE_ISA": "avx2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2", "OPENBLAS_CORETYPE": "Haswell"}}


def emulate(isa: str) -> None:
    """Re-executes this script limited to ``isa`` (the environment must be set before JAX and numpy load).

    An emulation: the same cores, caches and memory, another instruction set. XLA's own matmul (YNNPACK) still picks
    its kernel by the CPU; on AMD's Zen 4, which runs AVX-512 as two 256-bit halves, its rate is AVX2's.
    """
    wanted = ISA_ENV[isa]
    if all(value in os.environ.get(name, "").split() for name, value in wanted.items()):
        return
    env = dict(os.environ)
    env.update({name: value for name, value in wanted.items() if name != "XLA_FLAGS"})
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {wanted['XLA_FLAGS']}".strip()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def describe_machine() -> None:
    """The CPU, whether it has AVX2 and AVX-512, and the instruction sets this run is limited to."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    has = ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in ("avx2", "avx512f"))
    print(f"CPU: {fields.get('model name', 'unknown')} (family {fields.get('cpu family', '?')}, model "
          f"{fields.get('model', '?')}), {os.cpu_count()} cores; {has}")
    cap = os.environ.get("OVERFIT_NATIVE_ISA")
    xla = next((f for f in os.environ.get("XLA_FLAGS", "").split() if f.startswith("--xla_cpu_max_isa")), None)
    print(f"in force: compiled kernel {'up to ' + cap if cap else 'every build (the widest the CPU has runs)'}; "
          f"XLA's code {xla.split('=')[1] if xla else 'unlimited'}; floor matmul "
          f"{'numpy OpenBLAS, core type ' + os.environ['OPENBLAS_CORETYPE'] if cap else 'XLA (YNNPACK)'}"
          f"{'  [an emulation: this CPU has AVX-512]' if cap and 'avx512f' in flags else ''}")


def compiled_build() -> str:
    """Which build of the compiled kernel this CPU runs (csr_kernel.cc's overfit_csr_isa): avx512f, avx2 or sse2."""
    import ctypes

    from overfit.engine import native

    library = ctypes.CDLL(str(native.library_path()))
    if not hasattr(library, "overfit_csr_isa"):
        return "unnamed"
    library.overfit_csr_isa.restype = ctypes.c_char_p
    return library.overfit_csr_isa().decode()


def load():
    from overfit.data import imdb

    return {"train": imdb.load_split(DATA / "train.npz"), "test": imdb.load_split(DATA / "test.npz")}


def holdout_runs(n_models: int):
    from overfit.engine.train import Run
    from overfit.protocols import Fold

    return [Run("holdout", Fold(0, 0, TRAIN_ROWS, "train", VALIDATION_ROWS), i, init_seed=i, shuffle_seed=100 + i)
            for i in range(n_models)]


def chapter_stack():
    """The chapter's narrow experiments as the K-fold protocols train them: one stack (config/config.yaml)."""
    import yaml

    from overfit import experiments

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    names = config["protocols"]["kfold"]["experiments"]
    return tuple(experiments.experiment(config, name, protocol="kfold").model for name in names)


def floor_seconds(hidden: list[int], splits, rates) -> float:
    ids, distinct = review_stats(splits["train"])
    return model_epoch_floor(hidden, len(TRAIN_ROWS), len(VALIDATION_ROWS), ids, distinct, rates)


def seconds_per_model_epoch(specs, epochs, splits, trainers, mode="sparse", kernel="auto") -> float:
    """Seconds per model-epoch of a stack of ``specs`` (one spec: a model alone), one run."""
    from overfit.engine.train import Trainer, TrainingSpec, train_stack

    training = TrainingSpec(epochs=epochs, input_mode=mode, sparse_kernel=kernel)
    key = (specs, epochs, mode, kernel)
    if key not in trainers:  # warm-up: compile outside the timing
        trainers[key] = Trainer(specs, training)
        used[specs, mode, kernel] = trainers[key].kernel
        train_stack(specs, holdout_runs(1), training, splits, trainer=trainers[key])
    start = time.perf_counter()
    train_stack(specs, holdout_runs(1), training, splits, trainer=trainers[key])
    return (time.perf_counter() - start) / (epochs * len(specs))


def dense_path(splits, rates, rounds: int, epochs: int) -> None:
    """The dense path (overfit.engine.dense): the IMDB models on multi-hot rows beside the engine's dense reference
    (the same model, weights and batches: the same numbers), and the 2nd edition's image model against its floor."""
    from overfit.engine import dense
    from overfit.engine.model import ModelSpec

    multi_hot = {}
    for name in ("train",):
        reviews = splits[name]
        x = np.zeros((len(reviews), 10000), np.float32)
        for i in range(len(reviews)):
            x[i, reviews.ids[reviews.offsets[i]:reviews.offsets[i + 1]]] = 1
        multi_hot[name] = (x, reviews.label.astype(np.float32))
    x, y = multi_hot["train"]
    run = dense.DenseRun({"seed": 0}, TRAIN_ROWS, {"validation": (x[VALIDATION_ROWS], y[VALIDATION_ROWS])}, 0, 100)
    print(f"\nthe dense path against the engine's dense reference (the book's multi-hot matmul), IMDB 3.5 hold-out, "
          f"seconds per model-epoch, median of {rounds} rounds")
    print(f"{'model':>12} {'dense path':>11} {'reference':>10} {'ratio':>6}")
    trainers = {}
    for width in (16, 512):
        spec, training = dense.DenseSpec((width, width), 1, head="sigmoid"), dense.DenseTraining(epochs, 512, edition=1)
        trainer = dense.DenseTrainer(spec, 10000, training)
        dense.train([(x, y, run)], spec, training, trainer=trainer)  # compile
        mine, reference = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            dense.train([(x, y, run)], spec, training, trainer=trainer)
            mine.append((time.perf_counter() - start) / epochs)
            reference.append(seconds_per_model_epoch((ModelSpec.build([width, width]),), epochs, splits, trainers, "dense"))
        a, b = np.median(mine), np.median(reference)
        print(f"{f'{width}-{width}-1':>12} {a:>11.3f} {b:>10.3f} {b / a:>5.2f}x", flush=True)
    del x, multi_hot

    path = ROOT / "results" / "data" / "fashion_mnist" / "train.npz"
    with np.load(path) as data:
        images, labels = data["images"].reshape(60000, -1).astype(np.float32) / 255, data["labels"].astype(np.int32)
    run = dense.DenseRun({"seed": 0}, np.arange(48000), {"validation": (images[48000:], labels[48000:])}, 0, 1)
    spec, training = dense.DenseSpec((512,), 10), dense.DenseTraining(epochs, 128)
    trainer = dense.DenseTrainer(spec, 784, training)
    dense.train([(images, labels, run)], spec, training, trainer=trainer)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        dense.train([(images, labels, run)], spec, training, trainer=trainer)
        times.append((time.perf_counter() - start) / epochs)
    macs = 784 * 512 + 512 * 10
    floor = (6 * 48000 + 2 * 12000) * macs / rates[0]  # training forward + backward, validation forward
    print(f"\nthe 2nd edition's image model, Dense(512) → Dense(10), Fashion-MNIST 48,000 + 12,000 rows, batch 128: "
          f"{np.median(times):.3f} s per epoch, floor {floor:.3f} s ({np.median(times) / floor:.1f}x)")


def profile(width: int, splits) -> None:
    """Where one training step's time goes at this width, each part timed alone in a scan over an epoch's batches."""
    import jax
    import jax.numpy as jnp

    from overfit.engine import native, sparse
    from overfit.engine.batches import DeviceSplit, EpochInputs, batched_rows, max_slots, round_up, sparse_batch
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Trainer, TrainingSpec

    device = DeviceSplit.from_reviews(splits["train"], 10000)
    arrays = device.arrays()
    rows = batched_rows(np.random.default_rng(0).permutation(TRAIN_ROWS).astype(np.int32), BATCH)
    slots, steps = round_up(max_slots(rows, device.host_lengths)), len(rows)
    start = time.perf_counter()
    inputs = EpochInputs(splits["train"], device.host_lengths, 10000, slots, True)(rows)
    parts = {"host: the epoch's transposed structure (CSR gradient)": (time.perf_counter() - start) / steps}
    rows_device, transposed = inputs
    kernel = jax.random.normal(jax.random.key(0), (10000, width)) * 0.01

    def scan(body, init=0.0):
        return jax.jit(lambda xs: jax.lax.scan(body, init, xs)[0])

    def assembly(c, r):
        batch, _, _ = sparse_batch(arrays, r, slots)
        return c + batch.ids.sum() + batch.segments.sum(), None

    def first_forward_backward(how, blocks=False):
        start = native.to_blocks(kernel) if blocks else kernel

        def body(c, x):
            r, t0, t1 = x
            batch, _, _ = sparse_batch(arrays, r, slots, (t0, t1) if how == "csr" else (None, None))
            grad = jax.grad(lambda k: jnp.sum(sparse.first_layer(k, batch, how) ** 2))(start)
            return c + grad[0, 0].sum(), None
        return body

    h = jax.random.normal(jax.random.key(1), (steps, BATCH, width))
    w2, w3 = jax.random.normal(jax.random.key(2), (width, width)) * 0.01, jax.random.normal(jax.random.key(3), (width, 1))

    def hidden(c, x):
        grads = jax.grad(lambda x, w2, w3: jnp.sum(jax.nn.relu(jax.nn.relu(x) @ w2) @ w3), argnums=(0, 1, 2))(x, w2, w3)
        return c + grads[0][0, 0] + grads[1][0, 0], None

    assemble, dense = scan(assembly), scan(hidden)
    assembled = timed(lambda: assemble(rows_device), 3) / steps
    parts["batch assembly (device)"] = assembled
    for how, blocks, name in (("csr", False, "XLA's CSR"), ("native", False, "compiled, kernel row-major"),
                              ("native", True, "compiled, kernel in blocks")):
        if blocks and width % native.BLOCK:
            continue  # blocks of 32 columns: a model alone of this width keeps its kernel row-major
        first = scan(first_forward_backward(how, blocks))
        parts[f"first layer forward + kernel gradient ({name})"] = timed(lambda: first((rows_device, *transposed)), 3) / steps - assembled
    parts["hidden and output layers, forward + backward"] = timed(lambda: dense(h), 3) / steps
    parts["optimizer on the first-layer kernel"] = update_seconds((10000, width), steps)
    spec = ModelSpec.build([width, width])
    trainer = Trainer(spec, TrainingSpec())
    state = list(trainer.init(0))

    def epoch():
        state[0], state[1], metrics = trainer.train_epoch(state[0], state[1], arrays, rows_device, transposed,
                                                          jax.random.key(0), slots)
        return metrics

    step = timed(epoch, 2) / steps
    chunks = jnp.asarray(batched_rows(VALIDATION_ROWS.astype(np.int32), 2048))
    eval_slots = round_up(max_slots(np.asarray(chunks), device.host_lengths))
    evaluation = timed(lambda: trainer.evaluate(state[0], arrays, chunks, eval_slots), 2)
    print(f"width {width}: one training step (batch of {BATCH}), ms; {steps} steps and one validation pass per epoch")
    for name, seconds in parts.items():
        print(f"  {name:<62} {seconds * 1e3:8.3f}")
    print(f"  {'the whole compiled step (loss, all gradients, RMSprop)':<62} {step * 1e3:8.3f}")
    print(f"  {'validation pass (10,000 reviews), per epoch':<62} {evaluation * 1e3:8.1f}")


def memory_child(width: int, n_models: int, epochs: int) -> None:
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import TrainingSpec, train_models

    splits = load()
    train_models(ModelSpec.build([width, width]), holdout_runs(n_models), TrainingSpec(epochs=epochs), splits)
    status = Path("/proc/self/status").read_text()
    peak_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    print(json.dumps({"peak_rss_gib": peak_kib / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 16, 512, 1024])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: 20, the pipeline's runs; 2 for --dense-path): a model's set-up "
                             "(initialisation, the data on the device) is paid once per run, so measure at a real "
                             "run's length")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stacks", type=int, nargs="*", default=[4, 8, 16], help="stack sizes of width-16 models")
    parser.add_argument("--stack-epochs", type=int, default=20,
                        help="epochs per stack measurement: a run's set-up (initialising each model, the first "
                             "epoch's host work) is paid once per run, so measure at a real run's length")
    parser.add_argument("--dense", action="store_true", help="also time the book's dense multi-hot formulation")
    parser.add_argument("--dense-path", action="store_true", help="only the dense path (images): see dense_path")
    parser.add_argument("--memory-models", type=int, default=0)
    parser.add_argument("--profile", type=int, metavar="WIDTH")
    parser.add_argument("--memory-child", type=int, nargs=3, metavar=("WIDTH", "MODELS", "EPOCHS"))
    parser.add_argument("--isa", choices=sorted(ISA_ENV),
                        help="run as a CPU limited to this instruction set does (on a CPU with more: an emulation)")
    args = parser.parse_args()
    if args.isa:
        emulate(args.isa)
    if args.memory_child:
        return memory_child(*args.memory_child)
    describe_machine()
    from overfit.engine.model import ModelSpec

    splits, trainers = load(), {}
    if args.profile:
        return profile(args.profile, splits)
    rates = flops, bandwidth = machine_rates("openblas" if os.environ.get("OVERFIT_NATIVE_ISA") else "xla")
    print(f"this machine: float32 matmul {flops / 1e9:.0f} GFLOP/s, streaming update {bandwidth / 1e9:.1f} GB/s")
    if args.dense_path:
        return dense_path(splits, rates, args.rounds, args.epochs or 2)
    args.epochs = args.epochs or 20
    from overfit.engine import native

    kernel = (f"the compiled kernel, its {compiled_build()} build" if native.available()
              else "XLA's CSR: the compiled kernel is NOT AVAILABLE here")
    if os.environ.get("OVERFIT_SPARSE_KERNEL"):
        kernel += f"; OVERFIT_SPARSE_KERNEL={os.environ['OVERFIT_SPARSE_KERNEL']} forces the engine's kernel"
    print(f"\nseconds per model-epoch (15,000 train + 10,000 validation reviews), median of {args.rounds} rounds,"
          f" alternating:\nthe engine as the pipeline runs it ({kernel}), then with XLA's CSR kernel (its fallback:"
          f" the same numbers),\nand up to width {SEGMENT_UP_TO} with gather + segment_sum")
    print(f"{'width':>6} {'engine':>8} {'floor':>8} {'engine/floor':>13} {'XLA CSR':>8} {'/floor':>7} {'segment':>8}"
          f" {'/floor':>7}" + (f" {'dense (book)':>13}" if args.dense else "") + f" {'engine/CSR':>11}  engine's kernel")
    for width in args.widths:
        spec = (ModelSpec.build([width, width]),)
        times = {"auto": [], "csr": [], "segment": [], "dense": []}
        variants = [("sparse", "auto"), ("sparse", "csr"), *([("sparse", "segment")] if width <= SEGMENT_UP_TO else []),
                    *([("dense", "auto")] if args.dense else [])]
        for _ in range(args.rounds):
            for mode, kernel in variants:
                times[kernel if mode == "sparse" else "dense"].append(
                    seconds_per_model_epoch(spec, args.epochs, splits, trainers, mode, kernel))
        engine, floor = np.median(times["auto"]), floor_seconds([width, width], splits, rates)

        def column(name):
            t = np.median(times[name]) if times[name] else None
            return f" {t:>8.3f} {t / floor:>6.2f}x" if t else f" {'':>8} {'':>7}"

        dense = f" {np.median(times['dense']):>13.3f}" if args.dense else ""
        print(f"{width:>6} {engine:>8.3f} {floor:>8.3f} {engine / floor:>12.2f}x{column('csr')}{column('segment')}{dense}"
              f" {engine / np.median(times['csr']):>10.2f}x  {used[spec, 'sparse', 'auto']}", flush=True)

    if args.stacks:
        print(f"\nwidth-16 models (16-16-1, every other one with L2) trained as a stack sharing each step, against alone;"
              f"\nseconds per model-epoch over runs of {args.stack_epochs} epochs")
        alone_spec = (ModelSpec.build([16, 16]),)
        for size in args.stacks:
            stack = tuple(ModelSpec.build([16, 16], l2=0.001 * (i % 2)) for i in range(size))
            alone, together = [], []
            for _ in range(args.rounds):
                alone.append(seconds_per_model_epoch(alone_spec, args.stack_epochs, splits, trainers))
                together.append(seconds_per_model_epoch(stack, args.stack_epochs, splits, trainers))
            a, t = np.median(alone), np.median(together)
            print(f"  stack of {size:>2}: {t:.4f} (alone {a:.4f}): {a / t:.1f}x less per model-epoch", flush=True)
        chapter = chapter_stack()
        alone, together = [], []
        for _ in range(args.rounds):
            alone.append(sum(seconds_per_model_epoch((spec,), args.stack_epochs, splits, trainers) for spec in chapter))
            together.append(seconds_per_model_epoch(chapter, args.stack_epochs, splits, trainers) * len(chapter))
        a, t = np.median(alone), np.median(together)
        print(f"  the chapter's {len(chapter)} narrow models (the K-fold jobs' stack: four architectures), seconds per "
              f"epoch of all of them: {t:.4f} (one after another {a:.4f}): {a / t:.1f}x less", flush=True)

    if args.memory_models:
        print(f"\npeak memory, {args.memory_models} models trained in one call (sparse, 2 epochs)")
        for width in args.widths:
            out = subprocess.run([sys.executable, __file__, "--memory-child", str(width), str(args.memory_models), "2"],
                                 capture_output=True, text=True, check=True).stdout
            print(f"{width:>6} {json.loads(out.strip().splitlines()[-1])['peak_rss_gib']:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
