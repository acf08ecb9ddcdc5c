"""Why the second pretraining pass of the IMDb language model got worse: is there a leak in the
training path, or does the model depend on how long its states have run?

For each stateful language-model run given, on the same ordered batches:
1. the first `--batches` training batches, scored by `evaluate` and by Keras' training step with
   learning rate 0 (dropout on), from zero states: a leak in training would split the two;
2. validation from zero states, and after the states were carried through each `--warm` count of
   training batches (no reset), with the largest |cell state| reached.

    python benchmarks/lm_state_drift.py runs/imdb-lm runs/imdb-lm-2 --output results/lm/state-drift.json
"""

import argparse
import dataclasses
import time

import numpy as np


def score(model, task, config, examples):
    from rnnlab.data.batches import epoch_batches

    data = epoch_batches(examples, task.batching(config).order(examples, config.batch_size, config.seed), 0)
    return float(model.evaluate(data, verbose=0, return_dict=True)["cross_entropy"])


def measure(run, batches, warm):
    import keras

    from rnnlab.data.batches import epoch_batches
    from rnnlab.tasks.base import load_run, load_run_model
    from rnnlab.tasks.lm.task import reset_states

    task, config, folder = load_run(run)
    preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    # the whole corpus for every run (stage 1 was trained on a part of it)
    whole = dataclasses.replace(config, limit=None)
    train, valid = (
        task.examples(whole, "train", preprocessor),
        task.examples(whole, "validation", preprocessor),
    )
    first = train.subset(np.arange(batches * config.batch_size))
    model = load_run_model(folder)
    loss, metrics = task.loss_and_metrics(config, preprocessor)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss, metrics=metrics)
    reset_states(model)
    evaluated = score(model, task, config, first)
    reset_states(model)
    order = task.batching(config).order(first, config.batch_size, config.seed)
    trained = model.fit(epoch_batches(first, order, 0), epochs=1, verbose=0, shuffle=False)
    reset_states(model)
    cold = score(model, task, config, valid)
    warmed = []
    for count in warm:
        reset_states(model)
        score(model, task, config, train.subset(np.arange(count * config.batch_size)))  # carries the states
        cells = [
            float(np.abs(keras.ops.convert_to_numpy(layer.states[1])).max())
            for layer in model.layers
            if getattr(layer, "stateful", False) and layer.states is not None and len(layer.states) > 1
        ]
        warmed.append({"warm_up_batches": count, "valid_nats": score(model, task, config, valid),
                       "max_abs_cell_state_per_layer": cells})  # fmt: skip
    return {
        "run": str(run),
        "first_train_batches": batches,
        "train_evaluate_nats": evaluated,
        "train_step_lr0_nats": float(trained.history["cross_entropy"][0]),
        "valid_from_zero_states_nats": cold,
        "valid_after_warm_up": warmed,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="stateful LSTM language-model run folders")
    parser.add_argument("--batches", type=int, default=150, help="training batches scored both ways")
    parser.add_argument(
        "--warm", type=int, nargs="+", default=[3, 400], help="training batches that warm the states up"
    )
    parser.add_argument("--output", help="JSON record to write")
    args = parser.parse_args()
    start = time.perf_counter()
    results = []
    for run in args.runs:
        results.append(measure(run, args.batches, args.warm))
        print(results[-1], flush=True)
    if args.output:
        import keras

        from rnnlab import runs

        record = {"results": results, "wall_time_s": round(time.perf_counter() - start, 1),
                  **runs.provenance(keras.backend.backend())}  # fmt: skip
        runs.write_json(args.output, record)
        print(f"Record: {args.output}")


if __name__ == "__main__":
    main()
