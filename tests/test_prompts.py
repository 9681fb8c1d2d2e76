"""Prompts and few-shot plans: the same shots for both models, never the evaluated example."""

from __future__ import annotations

import pytest

from dabench.errors import DataError, TaskError
from dabench.registry import get_registry
from dabench.runner import plan_task


def test_shots_from_train_split_are_fixed_by_seed(shared_data):
    spec = get_registry().get("chemprot")
    a = plan_task(spec, shared_data, shots=3, seed=7, limit=10)
    b = plan_task(spec, shared_data, shots=3, seed=7, limit=10)
    c = plan_task(spec, shared_data, shots=3, seed=8, limit=10)
    assert [s.id for s in a.shots] == [s.id for s in b.shots]
    assert [s.id for s in a.shots] != [s.id for s in c.shots]
    assert all(s.id.startswith("train-") for s in a.shots)
    assert a.run_key == b.run_key != c.run_key
    ctx = a.contexts()[0]
    # three demonstrations with their gold verbalisers, then the example without an answer
    assert ctx.count("Answer:") == 4
    assert ctx.endswith("Answer:")
    for shot in a.shots:
        assert spec.verbalizers[shot.label] in ctx


def test_missing_fewshot_file_is_refused_not_replaced_by_the_eval_split(shared_data):
    spec = get_registry().get("sst2")  # no train.tsv in the shared data
    with pytest.raises(DataError) as err:
        plan_task(spec, shared_data, shots=2, seed=0)
    msg = str(err.value)
    assert str(shared_data / "glue/sst2/train.tsv") in msg and "--shots-split" in msg
    assert "\n" not in msg


def test_shots_drawn_from_eval_split_by_choice_are_never_evaluated(shared_data):
    spec = get_registry().get("sst2")
    plan = plan_task(spec, shared_data, shots=2, shots_split="validation", seed=0, limit=50)
    shot_ids = {s.id for s in plan.shots}
    assert len(shot_ids) == 2
    assert len(plan.examples) == 50  # the evaluated examples are the first 50, as without shots
    assert not shot_ids & {ex.id for ex in plan.examples}
    assert plan.shot_split == "validation"
    assert plan.shot_source.startswith("validation:")


def test_pool_emptied_by_the_evaluated_examples_is_one_clear_error(shared_data):
    spec = get_registry().get("sst2")
    with pytest.raises(TaskError, match=r"--shots 2 from split 'validation' leaves 0 examples besides the 872 "
                                        r"evaluated ones"):
        plan_task(spec, shared_data, shots=2, shots_split="validation")


def test_task_without_fewshot_split_needs_shots_split(shared_data):
    spec = get_registry().get("sst2").model_copy(update={"fewshot_split": None})
    with pytest.raises(TaskError, match="has no few-shot split for --shots 1; pass --shots-split SPLIT"):
        plan_task(spec, shared_data, shots=1, limit=3)


def test_template_changes_the_run_key(shared_data):
    spec = get_registry().get("sst2")
    keys = {plan_task(spec, shared_data, template_id=t.id, limit=5).run_key for t in spec.templates}
    assert len(keys) == len(spec.templates)
