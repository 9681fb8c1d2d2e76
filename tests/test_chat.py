"""Chat formats: prompts rendered by each model's own chat template, exactly as
``apply_chat_template(..., add_generation_prompt=True)`` renders them, with the verbaliser as the
assistant's reply; plain for a model without a template under ``auto``; formats recorded in the
signature and the run key; a template file for both; formats as --select-prompt candidates."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from dabench import compare
from dabench.chat import ChatSettings
from dabench.engines.base import ScoreRequest
from dabench.errors import DabenchError
from dabench.prompts import build_context, render, target_text
from dabench.registry import get_registry
from dabench.runner import plan_task

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
OTHER = ("{{ bos_token }}{% for m in messages %}[{{ m['role'] | upper }}] {{ m['content'] }}\n{% endfor %}"
         "{% if add_generation_prompt %}[ASSISTANT] {% endif %}")


def _with_template(src: Path, dst: Path, template: str) -> Path:
    """A copy of a checkpoint whose tokenizer carries ``template`` as its chat template."""
    from transformers import AutoTokenizer

    shutil.copytree(src, dst)
    tok = AutoTokenizer.from_pretrained(dst)
    tok.chat_template = template
    tok.save_pretrained(dst)
    return dst


@pytest.fixture(scope="module")
def instruct(lm_pair, tmp_path_factory) -> Path:
    """The adapted model of lm_pair, as if instruction-tuned: its tokenizer has a ChatML template."""
    return _with_template(lm_pair[1], tmp_path_factory.mktemp("instruct") / "model", CHATML)


def _messages(system: str | None, shots: list[tuple[str, str]], prompt: str, multiturn: bool) -> list[dict]:
    out = [{"role": "system", "content": system}] if system else []
    if multiturn:
        for q, a in shots:
            out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        return out + [{"role": "user", "content": prompt}]
    return out + [{"role": "user", "content": "\n\n".join([f"{q} {a}" for q, a in shots] + [prompt])}]


@pytest.mark.parametrize("multiturn", [False, True])
def test_rendered_prompt_is_apply_chat_template_plus_the_verbaliser(instruct, shared_data, multiturn):
    from transformers import AutoTokenizer

    spec = get_registry().get("sst2")
    plan = plan_task(spec, shared_data, shots=2, shots_split="validation", limit=3)
    fmt = ChatSettings("auto", "Answer with one word.", multiturn).format_for(str(instruct), None)
    assert fmt is not None and fmt.id.startswith("chat-")
    tok = AutoTokenizer.from_pretrained(instruct)
    tmpl = plan.template
    shots = [(render(tmpl, s), spec.verbalizers[s.label]) for s in plan.shots]
    for ex in plan.examples:
        expected = tok.apply_chat_template(_messages("Answer with one word.", shots, render(tmpl, ex), multiturn),
                                           tokenize=False, add_generation_prompt=True)
        assert build_context(spec, tmpl, ex, plan.shots, fmt) == expected
        assert expected.endswith("<|im_start|>assistant\n")
    assert [target_text(spec, tmpl, lab, fmt) for lab in spec.labels] == [spec.verbalizers[lab] for lab in spec.labels]
    assert "<|im_end|>" in fmt.stops


def test_auto_prompts_each_model_in_its_own_format_with_the_hf_engine_numbers(lm_pair, instruct, shared_data, tmp_path):
    """Base (no template) plain, instruct model chat-formatted; the stored log-likelihoods are the hf
    engine's on apply_chat_template(...) + verbaliser; the signature and run keys tell the formats apart."""
    from transformers import AutoTokenizer

    from dabench.engines import load_engine

    base = lm_pair[0]
    kw = dict(data_dir=shared_data, limit=6, resamples=200, store_path=tmp_path / "s.sqlite", progress=False)
    chat = compare(str(base), str(instruct), ["sst2"], chat_template="auto", system_prompt="Be brief.", **kw)
    formats = chat.signature["formats"]["sst2"]
    assert formats["base"] == {"format": "plain"}
    assert formats["adapted"]["format"] == "chat" and formats["adapted"]["system_prompt"] == "Be brief."
    assert formats["adapted"]["template_source"] == "tokenizer" and len(formats["adapted"]["template_sha256"]) == 16
    t = chat.task("sst2")
    assert " · " not in t.templates["base"]
    assert " · chat-" in t.templates["adapted"]
    # the adapted model's predictions are the argmax of the hf engine's scores on the chat prompts
    spec = get_registry().get("sst2")
    plan = plan_task(spec, shared_data, limit=6)
    tok = AutoTokenizer.from_pretrained(instruct)
    engine = load_engine("hf", str(instruct), device="cpu")
    contexts = [tok.apply_chat_template([{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": render(plan.template, ex)}],
                                        tokenize=False, add_generation_prompt=True) for ex in plan.examples]
    verbalisers = tuple(spec.verbalizers[lab] for lab in spec.labels)
    scores = engine.loglikelihood([ScoreRequest(c, verbalisers) for c in contexts])
    expected = [spec.verbalizers[spec.labels[max(range(len(s)), key=s.__getitem__)]] for s in scores]
    assert [r["adapted_prediction"] for r in t.examples] == expected
    # the same pair in plain format: the plain plan keeps its run key, the chat plan has its own,
    # so the store keeps both and never serves one format's records for the other
    fmt = ChatSettings("auto", "Be brief.").format_for(str(instruct), None)
    assert replace(plan, format=fmt).run_key != plan.run_key
    plain = compare(str(base), str(instruct), ["sst2"], **kw)
    assert "formats" not in plain.signature and " · " not in plain.task("sst2").templates["adapted"]
    assert [r["adapted_prediction"] for r in plain.task("sst2").examples] == \
        [r["adapted_prediction"] for r in compare(str(base), str(instruct), ["sst2"], **{**kw, "store_path": tmp_path / "fresh.sqlite"}).task("sst2").examples]


def test_a_template_file_formats_both_models(lm_pair, shared_data, tmp_path):
    path = tmp_path / "template.jinja"
    path.write_text(OTHER, encoding="utf-8")
    comp = compare(str(lm_pair[0]), str(lm_pair[1]), ["sst2"], chat_template=str(path), fewshot_as_multiturn=True,
                   shots=1, shots_split="validation", data_dir=shared_data, limit=4, resamples=100,
                   store_path=tmp_path / "s.sqlite", progress=False)
    formats = comp.signature["formats"]["sst2"]
    assert formats["base"]["id"] == formats["adapted"]["id"] and formats["base"]["template_source"] == "template.jinja"
    assert formats["base"]["fewshot_as_multiturn"] is True
    prompt = comp.task("sst2").examples[0]["prompt"]
    assert prompt.count("[USER] ") == 2 and prompt.count("[ASSISTANT] ") == 2 and prompt.endswith("[ASSISTANT] ")


def test_select_prompt_weighs_plain_and_chat_per_model_on_validation(lm_pair, instruct, shared_data, tmp_path):
    comp = compare(str(lm_pair[0]), str(instruct), ["chemprot"], chat_template="auto", select_prompt=True,
                   data_dir=shared_data, limit=6, select_limit=6, resamples=100, store_path=tmp_path / "s.sqlite",
                   progress=False)
    sel = comp.task("chemprot").prompt_selection
    assert sel is not None and sel["split"] == "validation"
    spec = get_registry().get("chemprot")
    assert len(sel["adapted"]) == 2 * len(spec.templates)  # every template, plain and chat
    assert any(" · chat-" in k for k in sel["adapted"]) and all(" · " not in k for k in sel["base"])
    chosen = comp.task("chemprot").templates["adapted"]
    assert sel["adapted"][chosen] == max(sel["adapted"].values())


def test_bad_chat_options_are_one_line(lm_pair, shared_data, tmp_path, capsys):
    from dabench.cli import main

    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}", encoding="utf-8")
    base, adapted = map(str, lm_pair)
    for args, needle in (
        (["--chat-template", str(bad)], "not a valid Jinja template"),
        (["--chat-template", str(tmp_path / "none.jinja")], "cannot be read"),
        (["--system-prompt", "hi"], "add --chat-template auto"),
        (["--chat-template", "auto", "--regime", "probe"], "applies to prompting"),
    ):
        code = main(["compare", base, adapted, "--tasks", "sst2", "--data-dir", str(shared_data), *args])
        err = capsys.readouterr().err
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (args, err)
    with pytest.raises(DabenchError, match="lm-eval tasks are prompted as lm-eval formats them"):
        compare(base, adapted, ["lmeval:dab_sst2"], chat_template="auto", data_dir=shared_data, progress=False)
