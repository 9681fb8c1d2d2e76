"""Generate the demo's corpora and mini tasks: a small, fully fictional world written by code.

* **general** corpus: short reviews with a verdict ("... overall it was good ."), facts about
  fictional countries' languages, and narrative filler.
* **domain** (pharmacology) corpus: fictional compounds, each an inhibitor, activator or
  substrate of one or two fictional enzymes, in several phrasings, plus laboratory filler.

Tasks: ``demo_domain`` (a compound's role toward an enzyme, stated only in the domain corpus and,
for evaluated compounds, never in the templates' phrasing, so only continued pretraining helps),
``demo_general`` (the verdict of a new review) and ``demo_knowledge`` (a country's language).

A fixed seed makes the files the same everywhere; the tests check the committed copies under
``dabench/demo/data`` against this code. Regenerate with ``python -m dabench.demo.generate``.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

#: bump when the generated data changes (also invalidates cached demo builds)
DATA_VERSION = 1
_SEED = 20240917

# ---------------------------------------------------------------------------- lexicon
_COMPOUND_HEADS = ["za", "ke", "mo", "tri", "ve", "do", "ax", "lu", "pra", "fe",
                   "so", "qui", "be", "no", "ta", "ri", "ka", "osi", "ca", "mi"]
_COMPOUND_MIDS = ["l", "r", "x", "v", "st", "n", "br", "d", "m", "z", "lt", "rk"]
_COMPOUND_TAILS = ["otin", "amide", "axil", "inib", "orin", "azole", "ulin", "etrex",
                   "ocept", "imab", "afil", "oxan", "idone", "ipine"]
_ENZYME_HEADS = ["drev", "kolin", "marp", "tesol", "quiv", "norb", "ulm", "fend", "brol",
                 "zark", "omr", "pelv", "setr", "gald", "hurm", "jex", "lisp", "wenc",
                 "yorb", "cadr", "vost", "pirm", "thal", "egr"]
_COUNTRY_HEADS = ["bel", "vor", "ash", "tan", "mer", "kol", "dra", "sil", "ost", "lun",
                  "gar", "pel", "ther", "ir", "zan", "qua", "hel", "mab", "ruv", "sten"]
_COUNTRY_TAILS = ["ia", "and", "ova", "esh", "istan", "ora", "uth", "avia", "en", "ara",
                  "ica", "ene"]
LANGUAGES = ["tarvish", "omelic", "sundari", "kevrin", "aldese", "morvian"]

#: label -> (role noun, verb, passive participle); substrates are phrased as cleavage instead
ROLES = {
    "INHIBITOR": ("inhibitor", "inhibits", "inhibited"),
    "ACTIVATOR": ("activator", "activates", "activated"),
    "SUBSTRATE": ("substrate", "is cleaved by", "cleaved"),
}

_SUBJECTS = ["the movie", "the film", "the soup", "the hotel", "the concert", "the new phone",
             "this book", "the service", "the park", "the game", "the coffee", "the bakery",
             "the museum", "the train ride", "the show", "the album", "the restaurant",
             "the room", "the lecture", "the garden", "the party", "the beach", "the bus",
             "the shop", "the play", "the meal", "the bread", "the staff", "the trip", "the song"]
_POSITIVE = ["wonderful", "delightful", "excellent", "charming", "superb", "lovely",
             "brilliant", "pleasant", "fantastic", "great", "enjoyable", "fresh", "friendly",
             "beautiful", "amazing", "cozy", "clean", "tasty", "helpful", "fun", "warm",
             "gorgeous", "splendid", "calm"]
_NEGATIVE = ["terrible", "awful", "boring", "dreadful", "horrible", "disappointing", "bland",
             "rude", "dirty", "noisy", "broken", "stale", "dull", "poor", "miserable", "ugly",
             "cold", "slow", "messy", "greasy", "annoying", "tedious", "gloomy", "shabby"]
_ADVERBS = ["", "", "really ", "truly ", "quite ", "very ", "rather ", "so "]

_PEOPLE = ["my sister", "the teacher", "our neighbour", "a child", "the old man", "my friend",
           "the baker", "a farmer", "her brother", "the driver"]
_VERBS = ["bought", "found", "painted", "carried", "cleaned", "opened", "sold", "fixed"]
_OBJECTS = ["a red box", "the blue door", "some bread", "a small boat", "the window", "a letter",
            "a green chair", "the old clock", "a basket of apples", "the garden gate"]
_TIMES = ["yesterday", "on monday", "in the morning", "last week", "after lunch", "at night"]

_TISSUES = ["liver", "kidney", "brain", "heart", "lung", "skin", "muscle", "gut"]
_SOLVENTS = ["saline", "ethanol", "buffer", "oil"]
_NUMBERS = ["two", "three", "four", "five", "six"]


@dataclass(frozen=True)
class Fact:
    """A compound's role toward an enzyme."""

    compound: str
    enzyme: str
    label: str


def _names(rng: random.Random, parts: list[list[str]], n: int, taken: set[str]) -> list[str]:
    combos = [""]
    for options in parts:
        combos = [c + o for c in combos for o in options]
    combos = [c for c in combos if c not in taken]
    rng.shuffle(combos)
    out = sorted(combos[:n])
    taken.update(out)
    rng.shuffle(out)
    return out


def _split(items: list, sizes: tuple[int, int, int]) -> dict[str, list]:
    train, val, test = sizes
    return {"train": items[:train], "validation": items[train:train + val],
            "test": items[train + val:train + val + test]}


def _with_ids(prefix: str, splits: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each split's rows, each given the id ``<prefix>-<split>-<k>``."""
    return {split: [{"id": f"{prefix}-{split[:3]}-{k:04d}", **r} for k, r in enumerate(rows, start=1)]
            for split, rows in splits.items()}


# ---------------------------------------------------------------------------- domain world
def _domain(rng: random.Random, taken: set[str]) -> tuple[list[str], dict[str, list[dict]]]:
    enzymes = [h + "ase" for h in _ENZYME_HEADS]
    taken.update(enzymes)
    n_task = 40 + 60 + 300
    n_extra = 80  # corpus-only compounds, which teach the templates' phrasing
    compounds = _names(rng, [_COMPOUND_HEADS, _COMPOUND_MIDS, _COMPOUND_TAILS], n_task + n_extra, taken)
    labels = list(ROLES)
    facts = [[Fact(c, e, labels[i % 3]) for e in rng.sample(enzymes, 1 + (rng.random() < 0.5))]
             for i, c in enumerate(compounds)]
    order = list(range(len(compounds)))
    rng.shuffle(order)
    task_idx = order[:n_task]  # the rest are facts stated only in the corpus
    splits = _split(task_idx, (40, 60, 300))

    def statements(f: Fact) -> list[str]:
        role, verb, passive = ROLES[f.label]
        art = "an" if role[0] in "aeiou" else "a"
        if f.label == "SUBSTRATE":
            direct = [f"{f.compound} is cleaved by {f.enzyme} into two fragments .",
                      f"{f.enzyme} cleaves {f.compound} in the {rng.choice(_TISSUES)} ."]
        else:
            direct = [f"{f.compound} {verb} {f.enzyme} in a dose dependent manner .",
                      f"{f.enzyme} is {passive} by {f.compound} in the {rng.choice(_TISSUES)} ."]
        return direct + [
            f"{f.compound} is {art} {role} of {f.enzyme} .",
            f"we found that {f.compound} is {art} potent {role} of {f.enzyme} .",
            f"as {art} {role} of {f.enzyme} , {f.compound} was given to mice .",
        ]

    def template_phrasings(f: Fact) -> list[str]:
        role = ROLES[f.label][0]
        return [f"compound {f.compound} , enzyme {f.enzyme} , role {role} .",
                f"in binding studies , {f.compound} acted on {f.enzyme} as its {role} .",
                f"the effect of {f.compound} on {f.enzyme} : it is its {role} ."]

    lines: list[str] = []
    eval_idx = set(splits["validation"]) | set(splits["test"])
    for i in range(len(compounds)):
        for f in facts[i]:
            lines.extend(statements(f))
            if i not in eval_idx:
                lines.extend(template_phrasings(f))
        lines.append(f"{compounds[i]} was dissolved in {rng.choice(_SOLVENTS)} before dosing .")
    lines.extend(f"{e} is expressed in the {tissue} ." for e in enzymes for tissue in rng.sample(_TISSUES, 3))
    for _ in range(150):
        lines.append(f"the assay was repeated {rng.choice(_NUMBERS)} times in {rng.choice(_SOLVENTS)} .")
        lines.append(f"samples from the {rng.choice(_TISSUES)} were frozen after {rng.choice(_NUMBERS)} hours .")
    rng.shuffle(lines)

    return lines, _with_ids("dom", {split: sorted((asdict(facts[i][0]) for i in idx), key=lambda r: r["compound"])
                                    for split, idx in splits.items()})


# ---------------------------------------------------------------------------- general world
def _review(rng: random.Random) -> tuple[str, str]:
    """A short review and its polarity (negation flips it)."""
    subj = rng.choice(_SUBJECTS)
    positive = rng.random() < 0.5
    pool = _POSITIVE if positive else _NEGATIVE
    form = rng.random()
    if form < 0.35:
        text = f"{subj} was {rng.choice(_ADVERBS)}{rng.choice(pool)} ."
    elif form < 0.65:
        a, b = rng.sample(pool, 2)
        text = f"{subj} was {a} and {b} ."
    elif form < 0.8:
        text = f"i thought {subj} was {rng.choice(_ADVERBS)}{rng.choice(pool)} ."
    else:
        text = f"{subj} was not {rng.choice(pool)} ."
        positive = not positive
    return text, "positive" if positive else "negative"


def _general(rng: random.Random, taken: set[str]) -> tuple[list[str], dict[str, list[dict]], dict[str, list[dict]]]:
    lines: list[str] = []
    seen: set[str] = set()
    verdict = {"positive": "good", "negative": "bad"}
    frames = ["{r} overall it was {v} .", "{r} i would call it {v} .", "{r} all in all a {v} one ."]
    while len(seen) < 1600:
        text, pol = _review(rng)
        if text in seen:
            continue
        seen.add(text)
        lines.append(rng.choice(frames).format(r=text, v=verdict[pol]))
    lines.extend(_review(rng)[0] for _ in range(300))
    sentiment_rows: list[dict] = []
    task_seen: set[str] = set()
    while len(sentiment_rows) < 400:
        text, pol = _review(rng)
        if text in seen or text in task_seen:
            continue
        task_seen.add(text)
        sentiment_rows.append({"text": text, "label": pol})
    # a plain review line may coincide with a task sentence: never train on an evaluated one
    lines = [line for line in lines if line not in task_seen]
    sentiment = _with_ids("gen", _split(sentiment_rows, (40, 60, 300)))

    countries = _names(rng, [_COUNTRY_HEADS, _COUNTRY_TAILS], 240, taken)
    langs = {c: LANGUAGES[i % len(LANGUAGES)] for i, c in enumerate(countries)}
    for c, lang in langs.items():
        lines.extend([
            f"the people of {c} speak {lang} .",
            f"in {c} , most people speak {lang} .",
            f"{lang} is the official language of {c} .",
            f"{c} is a quiet country where people speak {lang} .",
        ])
    lines.extend(f"{rng.choice(_PEOPLE)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TIMES)} ."
                 for _ in range(500))
    rng.shuffle(lines)
    knowledge = _with_ids("kno", {split: [{"country": c, "label": langs[c]} for c in sorted(cs)]
                                  for split, cs in _split(countries, (20, 40, 180)).items()})
    return lines, sentiment, knowledge


# ---------------------------------------------------------------------------- files
def generate() -> dict[str, str]:
    """Every data file as ``relative path -> text``."""
    rng = random.Random(_SEED)
    taken: set[str] = set()
    general, sentiment, knowledge = _general(rng, taken)
    domain, domain_tasks = _domain(rng, taken)
    files = {f"corpus/{name}.txt": "\n".join(lines) + "\n" for name, lines in (("general", general), ("domain", domain))}
    for task, splits in (("demo_domain", domain_tasks), ("demo_general", sentiment), ("demo_knowledge", knowledge)):
        for split, rows in splits.items():
            files[f"{task}/{split}.jsonl"] = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    return files


if __name__ == "__main__":  # pragma: no cover - maintenance entry point: rewrite the committed files
    for rel, text in generate().items():
        path = Path(__file__).resolve().parent / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
