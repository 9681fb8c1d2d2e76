"""Corpora from the shared data and the tokenizers learnt from them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from transformers import PreTrainedTokenizerFast

#: ChemProt's entity markers
MARKERS = ["<< ", " >>", "[[ ", " ]]", "<<", ">>", "[[", "]]"]
SPECIAL_WORDPIECE = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def general_text(shared_data: Path) -> list[str]:
    """The SST-2 dev sentences, as in the file (with their trailing space)."""
    return [line.split("\t")[0] for line in (shared_data / "glue/sst2/dev.tsv").read_text().splitlines()[1:]]


def chemprot_text(shared_data: Path, n: int, *, clean: bool = False) -> list[str]:
    """The first ``n`` ChemProt training sentences; ``clean``: entity markers removed, spaces collapsed."""
    out = []
    for line in (shared_data / "chemprot/train.txt").read_text().splitlines()[:n]:
        text = json.loads(line)["text"]
        if clean:
            for m in MARKERS:
                text = text.replace(m, "")
            text = " ".join(text.split())
        out.append(text)
    return out


def build_bpe(texts: list[str], out: Path) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (vocabulary 600, GPT-2 style) trained on ``texts``, saved in ``out``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                   unk_token="<unk>", pad_token="<|endoftext|>")
    fast.save_pretrained(out)
    return fast


def build_wordpiece(corpus: list[str], out: Path, vocab_size: int = 800) -> PreTrainedTokenizerFast:
    """A BERT-style WordPiece tokenizer whose vocabulary is learnt from ``corpus``, saved in ``out``:
    the special tokens, every character (alone and as a ``##`` continuation), then the most
    frequent words. Built from counts rather than ``WordPieceTrainer`` because the trainer
    breaks frequency ties differently from run to run, and the tests need the same model in
    every session."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in corpus:
        counts.update(w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text)))
    chars = sorted({c for w in counts for c in w})
    vocab = SPECIAL_WORDPIECE + chars + ["##" + c for c in chars]
    known = set(vocab)
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= vocab_size:
            break
        if word not in known:
            vocab.append(word)
            known.add(word)
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = norm
    tok.pre_tokenizer = pre
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    fast.save_pretrained(out)
    return fast
