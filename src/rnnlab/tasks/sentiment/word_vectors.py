"""`rnnlab embeddings train`: word2vec (gensim) on IMDb's training and
unlabelled reviews, never the test reviews (article 7.3), or on the user's own
text (`--data`). Registered by the sentiment task."""

import time

import numpy as np

from rnnlab import runs
from rnnlab.datasets import imdb, user_text
from rnnlab.embeddings import train_word2vec
from rnnlab.text.words import WordTokenizer


def add_command(commands):
    """Adds `embeddings train` to the CLI's top-level commands."""
    embeddings = commands.add_parser(
        "embeddings", help="pretrained word vectors (word2vec on IMDb or your text)"
    )
    actions = embeddings.add_subparsers(dest="action", required=True, metavar="ACTION")
    w2v = actions.add_parser(
        "train",
        help="train word2vec (gensim) on IMDb train + unlabelled reviews (never the test reviews), "
        "or on your text (--data)",
    )
    w2v.add_argument(
        "--data",
        metavar="FILE_OR_FOLDER",
        help="your text instead of IMDb: a UTF-8 file, or a folder whose .txt files are read; each "
        "non-blank line is one text, split into words as `rnnlab train sentiment --data` splits them",
    )
    w2v.add_argument("--output", required=True, metavar="FILE", help="word2vec file to write")
    w2v.add_argument("--dim", type=int, default=100, help="vector size (default: 100)")
    w2v.add_argument("--window", type=int, default=5, help="context window (default: 5)")
    w2v.add_argument("--min-count", type=int, default=5, help="ignore rarer words (default: 5)")
    w2v.add_argument("--epochs", type=int, default=5, help="passes over the text (default: 5)")
    w2v.add_argument("--text", action="store_true", help="write the text format instead of binary")
    w2v.add_argument("--limit", type=int, default=None, help="use only N texts, drawn at random (smoke runs)")
    w2v.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    w2v.set_defaults(func=train_command)


def train_command(args):
    for name in ("dim", "window", "min_count", "epochs"):
        if getattr(args, name) < 1:
            raise ValueError(f"Expected --{name.replace('_', '-')} >= 1. Received: {getattr(args, name)}")
    if args.data is None:
        texts = imdb.load_texts("train")[0] + imdb.load_texts("unsup")[0]  # never the test reviews
        tokenizer = WordTokenizer()  # IMDb's word index: what IMDb sentiment runs use
    else:
        texts = [line for line in user_text.read_text(args.data).splitlines() if line.strip()]
        tokenizer = WordTokenizer(any_script=True)  # what runs on --data and SST use
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"Expected --limit >= 1. Received: {args.limit}")
        chosen = np.random.default_rng(args.seed).permutation(len(texts))[: args.limit]  # both labels
        texts = [texts[i] for i in chosen]
    start = time.perf_counter()
    vectors = train_word2vec(
        [tokenizer(t) for t in texts],
        args.output,
        dim=args.dim,
        window=args.window,
        min_count=args.min_count,
        epochs=args.epochs,
        binary=not args.text,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    record = {
        "words": len(vectors),
        "dim": vectors.vector_size,
        "texts": len(texts),
        "data": "IMDb train + unsup" if args.data is None else args.data,
        "window": args.window,
        "min_count": args.min_count,
        "epochs": args.epochs,
        "wall_time_s": round(seconds, 1),
        **runs.provenance(None),
    }
    runs.write_json(f"{args.output}.json", record)
    print(
        f"word2vec: {len(vectors)} words x {vectors.vector_size} dims from {len(texts)} texts "
        f"in {seconds:.1f} s; saved to {args.output} (record: {args.output}.json)"
    )
    return 0
