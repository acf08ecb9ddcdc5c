"""Small data in the real formats, written by the tests themselves."""

POSITIVE = ["wonderful", "great", "brilliant", "loved", "superb", "moving", "best"]
NEGATIVE = ["awful", "boring", "terrible", "hated", "worst", "dull", "waste"]
NEUTRAL = ["the", "film", "movie", "a", "plot", "actors", "was", "and", "it", "story"]


def review(rng, positive, length=30):
    """A review whose sentiment words give away its label."""
    cue = POSITIVE if positive else NEGATIVE
    words = [rng.choice(cue) if rng.random() < 0.25 else rng.choice(NEUTRAL) for _ in range(length)]
    return " ".join(words).capitalize() + ".<br /><br />" + rng.choice(cue).capitalize() + "!"


def write_small_imdb(folder, rng, per_label=60, unsup=20):
    """Writes `folder/{train,test}/{pos,neg}` and `train/unsup` like aclImdb."""
    for split in ("train", "test"):
        for label, positive in (("pos", True), ("neg", False)):
            sub = folder / split / label
            sub.mkdir(parents=True)
            for i in range(per_label):
                rating = rng.randint(7, 10) if positive else rng.randint(1, 4)
                (sub / f"{i}_{rating}.txt").write_text(review(rng, positive), encoding="utf-8")
    sub = folder / "train" / "unsup"
    sub.mkdir(parents=True)
    for i in range(unsup):
        (sub / f"{i}_0.txt").write_text(review(rng, rng.random() < 0.5), encoding="utf-8")
    return folder
