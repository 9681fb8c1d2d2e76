"""lm-eval task YAMLs over the real shared-data slices, and real lm-eval CLI output folders
(``--log_samples``) of the tiny base and adapted models, built once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHEMPROT_LABELS = ["INHIBITOR", "INDIRECT-DOWNREGULATOR", "SUBSTRATE", "INDIRECT-UPREGULATOR", "ACTIVATOR",
                   "ANTAGONIST", "PRODUCT-OF", "AGONIST", "DOWNREGULATOR", "UPREGULATOR", "SUBSTRATE_PRODUCT-OF",
                   "AGONIST-ACTIVATOR", "AGONIST-INHIBITOR"]
CHEMPROT_WORDS = ["inhibitor", "indirect downregulator", "substrate", "indirect upregulator", "activator", "antagonist",
                  "product", "agonist", "downregulator", "upregulator", "substrate and product", "agonist and activator",
                  "agonist and inhibitor"]
LIMIT = 24


def write_tasks(folder: Path, shared_data: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    labels = "[" + ",".join(f"'{x}'" for x in CHEMPROT_LABELS) + "]"
    words = "[" + ", ".join(f'"{w}"' for w in CHEMPROT_WORDS) + "]"
    (folder / "dab_chemprot.yaml").write_text(f"""task: dab_chemprot
dataset_path: json
dataset_kwargs:
  data_files:
    test: {shared_data / 'chemprot/test.txt'}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{text}}}}\\nQuestion: The chemical in << >> is what to the protein in [[ ]]?\\nAnswer:"
doc_to_choice: {words}
doc_to_target: "{{{{{labels}.index(label)}}}}"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""")
    (folder / "dab_sst2.yaml").write_text(f"""task: dab_sst2
dataset_path: csv
dataset_kwargs:
  data_files:
    validation: {shared_data / 'glue/sst2/dev.tsv'}
  delimiter: "\\t"
validation_split: validation
fewshot_split: validation
num_fewshot: 2
output_type: multiple_choice
doc_to_text: "{{{{sentence}}}}\\nQuestion: Is this sentence positive or negative?\\nAnswer:"
doc_to_choice: ["negative", "positive"]
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""")
    (folder / "dab_chemprot_gen.yaml").write_text(f"""task: dab_chemprot_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {shared_data / 'chemprot/test.txt'}
test_split: test
output_type: generate_until
doc_to_text: "{{{{text}}}}\\nRelation:"
doc_to_target: "{{{{label}}}}"
generation_kwargs:
  until: ["\\n", "."]
  max_gen_toks: 6
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
metadata:
  version: 1.0
""")
    return folder


TASKS = "dab_chemprot,dab_sst2,dab_chemprot_gen"


def run_lmeval_cli(model_dir: Path, tasks_dir: Path, out: Path, *, limit: int = LIMIT, batch_size: int = 8,
                   in_process: bool = True) -> Path:
    """``lm-eval run --model hf ... --log_samples --output_path OUT``, through lm-eval's own CLI."""
    args = ["run", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32",
            "--tasks", TASKS, "--include_path", str(tasks_dir), "--limit", str(limit), "--log_samples",
            "--output_path", str(out), "--device", "cpu", "--batch_size", str(batch_size)]
    if in_process:  # the same CLI code path, without paying the interpreter start-up and imports again
        from lm_eval._cli import HarnessCLI

        cli = HarnessCLI()
        cli.execute(cli._parser.parse_args(args))
        return out
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "lm_eval", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return out


@pytest.fixture(scope="session")
def lmeval_outputs(lm_pair, lmeval_tasks, tmp_path_factory) -> dict[str, Path]:
    """lm-eval CLI output folders of the base and the adapted model."""
    root = tmp_path_factory.mktemp("lmeval_out")
    base, adapted = lm_pair
    return {"base": run_lmeval_cli(base, lmeval_tasks, root / "base"),
            "adapted": run_lmeval_cli(adapted, lmeval_tasks, root / "adapted")}


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
