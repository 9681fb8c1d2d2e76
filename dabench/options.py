"""The options of a comparison, declared once as typed groups.

Every option is one dataclass field, with its flag and help text in the field's metadata. From
these declarations come the flags of every command that runs models (:mod:`dabench.cli.flags`),
validation (:meth:`RunOptions.validate`), the keywords of :func:`dabench.compare`
(:meth:`RunOptions.compare_kwargs`), what a comparison records of its options
(:meth:`RunOptions.recorded`) and what the gate replays of a stored one (:func:`replayed`).
A value left unset is ``None`` until :meth:`RunOptions.layered` fills it from a stored
comparison or from the field's default.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from pathlib import Path
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping, Sequence

from dabench.errors import OptionError

REGIMES = ("prompt", "finetune", "probe", "intrinsic")
CORRECTIONS = ("holm", "bh")
DTYPES = ("auto", "float32", "bfloat16", "float16")
POOLINGS = ("auto", "mean", "cls", "last")


def opt(default: Any, flag: str, help: str, *, replay: bool = True, metavar: str | None = None,
        bound: str | None = None) -> Any:
    """A dataclass field that is also a command-line option: ``flag`` and ``help`` are what the
    CLI shows; ``replay=False`` for options of the machine that ran a comparison (device,
    batch size, store), which the gate does not take over from a stored comparison; ``bound``:
    a key of :data:`BOUNDS`, the range a value must lie in."""
    meta = {"flag": flag, "help": help, "replay": replay, "metavar": metavar, "bound": bound}
    if isinstance(default, list):
        return field(default_factory=list, metadata=meta)
    return field(default=default, metadata=meta)


#: the ranges an option may declare (``opt(bound=...)``): the test a bad value fails, and what is wrong with it
BOUNDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    ">=1": (lambda v: v < 1, "must be at least 1, not {}"),
    ">=0": (lambda v: v < 0, "must be 0 or more, not {}"),
    ">0": (lambda v: not v > 0, "must be positive, not {:g}"),
}


@dataclass
class StatsOptions:
    """How Δ is tested and decided."""

    seed: int = opt(0, "--seed", "Seed of shot selection, training and resampling (results are reproducible for a seed).")
    resamples: int = opt(10_000, "--resamples", "Bootstrap / permutation resamples.")
    alpha: float = opt(0.05, "--alpha", "Significance level (after correction across tasks).")
    margin: float | None = opt(None, "--margin", "Equivalence / non-inferiority margin on the metric scale (0.01 = 1 point).")
    correction: str = opt("holm", "--correction", "Multiplicity correction across tasks: holm or bh.")

    def validate(self) -> None:
        if self.seed < 0:
            raise OptionError(f"--seed must be a non-negative integer, not {self.seed}")
        if not 0 < self.alpha < 0.5:
            raise OptionError(f"--alpha must lie in (0, 0.5), not {self.alpha:g}")
        need = int(2 / self.alpha + 0.999999)
        if self.resamples < need:
            raise OptionError(f"--resamples {self.resamples} is too few for alpha {self.alpha:g}: the interval's tails "
                               f"need at least {need} (10000 recommended)")
        if self.margin is not None and not self.margin >= 0:
            raise OptionError(f"--margin must be a non-negative number on the metric scale, not {self.margin:g}")
        if self.correction not in CORRECTIONS:
            raise OptionError(f"--correction must be one of {', '.join(CORRECTIONS)}, not {self.correction!r}")


@dataclass
class DataOptions:
    """Where each task's examples come from."""

    data_dir: str | None = opt(None, "--data-dir", "Local data dir (layout: docs/data.md); default $DABENCH_DATA_DIR.")
    data_file: list[str] = opt([], "--data-file", "Override one split's file: [TASK:]SPLIT=PATH (repeatable).")
    limit: int | None = opt(None, "--limit", "Evaluate only the first N examples of each task.", bound=">=1")
    tasks_dir: list[str] = opt([], "--tasks-dir", "Extra folder of task specs (YAML); repeatable.")

    def validate(self) -> None:
        parse_data_files(self.data_file, [""])  # the syntax (the task of a TASK-less value is checked per run)


#: one ``--data-file`` value
DATA_FILE = re.compile(r"(?:([\w.-]+):)?([\w.-]+)=(.+)")


def parse_data_files(values: Sequence[str], tasks: Sequence[str]) -> dict[str, dict[str, str]]:
    """``[TASK:]SPLIT=PATH`` values → ``{task: {split: path}}`` (the one parser of this syntax)."""
    out: dict[str, dict[str, str]] = {}
    for v in values:
        m = DATA_FILE.fullmatch(v)
        if not m:
            raise OptionError(f"--data-file {v!r}: expected [TASK:]SPLIT=PATH, e.g. chemprot:test=./test.txt")
        task, split, path = m.groups()
        if task is None:
            if len(tasks) != 1:
                raise OptionError(f"--data-file {v!r}: name the task (TASK:SPLIT=PATH) when comparing several tasks")
            task = tasks[0]
        out.setdefault(task, {})[split] = path
    return out


@dataclass
class EngineOptions:
    """How checkpoints are resolved, loaded and run."""

    engine: str = opt("hf", "--engine", "Inference engine for prompting: hf, vllm (pip install dabench[vllm]) or openai "
                      "(models behind an OpenAI-compatible server: --base-url).")
    device: str | None = opt(None, "--device", "cpu, cuda, cuda:1 … (default: CUDA when present).", replay=False)
    dtype: str = opt("auto", "--dtype", "auto, float32, bfloat16 or float16 (prompting).")
    batch_size: int | None = opt(None, "--batch-size", "Sequences per forward pass (prompting, default 16); the "
                                 "training batch with --regime finetune.", replay=False, bound=">=1")
    max_length: int | None = opt(None, "--max-length", "Max input tokens (finetune/probe/intrinsic regimes).",
                                 bound=">=1")
    arch: str | None = opt(None, "--arch", "Model config and tokenizer (a model dir or hub id) for .ckpt/.pt/"
                           ".safetensors weight files.")
    adapter_base: str | None = opt(None, "--adapter-base", "Base model of a PEFT adapter (overrides "
                                   "adapter_config.json).")
    ckpt_prefix: str | None = opt(None, "--ckpt-prefix", "Key prefix to strip from a weights file's state dict "
                                  "(default: the one that matches the most parameters, e.g. model.).")
    allow_pickle: bool = opt(False, "--allow-pickle", "Allow a .ckpt/.pt file that holds Python objects besides "
                             "tensors (unpickling can run code).")
    trust_remote_code: bool = opt(False, "--trust-remote-code", "Allow code shipped with a checkpoint to run.")
    tensor_parallel_size: int | None = opt(None, "--tensor-parallel-size", "--engine vllm: GPUs one model is split "
                                           "across (tensor parallel; vLLM places the shards with Ray).", replay=False,
                                           bound=">=1")
    pipeline_parallel_size: int | None = opt(None, "--pipeline-parallel-size", "--engine vllm: pipeline stages of one "
                                             "model (each on its own GPUs).", replay=False, bound=">=1")
    label_map: str | None = opt(None, "--label-map", "Classifier checkpoints: MODEL_LABEL=TASK_LABEL,… when the "
                                "model's label names differ from the task's.")

    def validate(self) -> None:
        from dabench.engines import ENGINES

        if self.engine not in ENGINES:
            raise OptionError(f"--engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        parallel = (self.tensor_parallel_size or 1) > 1 or (self.pipeline_parallel_size or 1) > 1
        if parallel and self.engine != "vllm":
            raise OptionError("--tensor-parallel-size / --pipeline-parallel-size split a model with --engine vllm; add "
                              "--engine vllm or drop them")
        if self.dtype not in DTYPES:
            raise OptionError(f"--dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")


@dataclass
class ServerOptions:
    """Models served behind an OpenAI-compatible endpoint (``--engine openai``)."""

    base_url: list[str] = opt([], "--base-url", "--engine openai: the server's URL (http://host:port/v1); "
                              "base=URL / adapted=URL when the two models sit on different servers.",
                              metavar="[ROLE=]URL")
    tokenizer: list[str] = opt([], "--tokenizer", "--engine openai: the served model's tokenizer (a local dir) to send "
                               "token ids, so choices are split from the context exactly as the hf engine splits them "
                               "(default: the server's /tokenize); ROLE=DIR per side.", metavar="[ROLE=]DIR")
    api_key_env: str | None = opt(None, "--api-key-env", "Environment variable holding the server's API key (the key "
                                  "itself is never written anywhere).", metavar="NAME")
    model_revision: str | None = opt(None, "--model-revision", "A revision label of the served models, part of their "
                                     "fingerprints.")
    max_concurrency: int = opt(8, "--max-concurrency", "Requests in flight at once per model.", replay=False,
                               bound=">=1")
    request_timeout: float = opt(120.0, "--request-timeout", "Seconds to wait for an answer before retrying.",
                                 replay=False, bound=">0")
    max_retries: int = opt(6, "--max-retries", "Retries of a request (timeouts, dropped connections, 429, 5xx), "
                           "with exponential backoff.", replay=False, bound=">=0")

    def validate(self) -> None:
        from dabench.engines.served import per_role

        per_role(self.base_url, "--base-url")
        per_role(self.tokenizer, "--tokenizer")


@dataclass
class PromptOptions:
    """How causal LMs are prompted (the prompt regime only)."""

    shots: int = opt(0, "--shots", "Few-shot examples per prompt (the same for both models).", bound=">=0")
    shots_split: str | None = opt(None, "--shots-split", "Draw the --shots examples from this split instead of the "
                                  "task's few-shot split (e.g. validation when no train file is there); evaluated "
                                  "examples are never used as shots.", metavar="SPLIT")
    select_prompt: bool = opt(False, "--select-prompt", "Per model, pick the best template on the validation split "
                              "(never on test data); with --chat-template, plain and chat formats are candidates too.")
    chat_template: str = opt("off", "--chat-template", "off: plain prompts; auto: each model's own tokenizer chat "
                             "template when it has one (plain otherwise); PATH: a Jinja chat template file for both.",
                             metavar="off|auto|PATH")
    system_prompt: str | None = opt(None, "--system-prompt", "System turn of chat-formatted prompts.", metavar="TEXT")
    fewshot_as_multiturn: bool = opt(False, "--fewshot-as-multiturn", "Chat formats: few-shot examples as alternating "
                                     "user/assistant turns (default: inside the one user turn).")

    def validate(self) -> None:
        if self.chat_template not in ("off", "auto"):
            from dabench.chat import read_template_file

            read_template_file(self.chat_template)  # a bad file is one line now, before any model loads
        elif self.chat_template == "off" and (self.system_prompt is not None or self.fewshot_as_multiturn):
            raise OptionError("--system-prompt / --fewshot-as-multiturn shape chat-formatted prompts; add "
                              "--chat-template auto (or PATH) or drop them")


@dataclass
class RegimeOptions:
    """Which regime compares the models, and the fine-tune / probe hyperparameters."""

    regime: str = opt("prompt", "--regime", "prompt: score the checkpoints as they are (zero/few-shot); finetune: "
                      "fine-tune both backbones per task with the same seeds (DSP protocol); probe: frozen features "
                      "+ logistic regression; intrinsic: (pseudo-)perplexity on held-out text.")
    preset: str | None = opt(None, "--preset", "Hyperparameter preset of --regime finetune/probe: dsp (default) or "
                             "small-cpu (see `dabench regimes`).")
    seeds: str | None = opt(None, "--seeds", "Fine-tuning seeds: a count (5 = seeds 0-4) or a list (0,1,2). Default: "
                            "the preset's.")
    epochs: int | None = opt(None, "--epochs", "Fine-tuning epochs (default: the preset's).", bound=">=1")
    lr: float | None = opt(None, "--lr", "Fine-tuning learning rate (default: the preset's).", bound=">0")
    patience: int | None = opt(None, "--patience", "Early-stopping patience on dev, in epochs; 0 = none (default: "
                               "the preset's).", bound=">=0")
    train_limit: int | None = opt(None, "--train-limit", "Train on a fixed random subset of N train examples.",
                                   bound=">=1")
    dev_limit: int | None = opt(None, "--dev-limit", "Early-stop / choose C on a fixed random subset of N dev "
                                 "examples.", bound=">=1")
    pooling: str | None = opt(None, "--pooling", "Features of --regime probe (mean, cls, last) or fine-tune head "
                              "input (auto, cls, mean, last).")

    def validate(self) -> None:
        if self.regime not in REGIMES:
            raise OptionError(f"--regime must be one of {', '.join(REGIMES)}, not {self.regime!r}")
        parse_seeds(self.seeds)
        if self.pooling is not None and self.pooling not in POOLINGS:
            raise OptionError(f"--pooling must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")


def parse_seeds(value: str | int | Sequence[int] | None) -> int | list[int] | None:
    """``--seeds``: a count (``5`` → seeds 0..4) or a comma-separated list (``0,1,7``)."""
    if value is None or isinstance(value, int):
        return value
    if not isinstance(value, str):
        return [int(v) for v in value]
    if not value.strip():
        return None
    try:
        parts = [int(p) for p in value.split(",") if p.strip()]
    except ValueError:
        raise OptionError(f"--seeds {value!r}: give a count (5) or a comma-separated list of seeds (0,1,2)") from None
    if not parts or any(p < 0 for p in parts) or ("," not in value and parts[0] < 1):
        raise OptionError(f"--seeds {value!r}: give a count of at least 1 or a list of non-negative seeds")
    return parts if "," in value else parts[0]


@dataclass
class RunSettings:
    """Where records go and how tasks are categorised."""

    domain: str | None = opt(None, "--domain", "Adaptation domain (e.g. biomed): tasks of this domain are in-domain.")
    store: str | None = opt(None, "--store", "Record store (default $DABENCH_STORE or ~/.cache/dabench/store.sqlite).",
                            replay=False)
    lmeval_include_path: list[str] = opt([], "--lmeval-include-path", "Folder of extra lm-eval task YAMLs for "
                                         "lmeval:<task> names in --tasks (repeatable).")

    def validate(self) -> None:
        return None


@dataclass
class ExecutorOptions:
    """Where the work units run: in this process, or on a Ray cluster (docs/distributed.md).
    None of these changes a number, so a gate never replays them."""

    executor: str = opt("local", "--executor", "Where work units run: local (this process) or ray (actors on a Ray "
                        "cluster; pip install 'dabench[ray]').", replay=False)
    ray_address: str | None = opt(None, "--ray-address", "Ray cluster to join (ADDRESS:PORT or auto); default: a Ray "
                                  "instance started on this machine.", replay=False, metavar="ADDRESS")
    workers: int = opt(1, "--workers", "Ray actors per model (each loads it once).", replay=False, bound=">=1")
    gpus_per_worker: float = opt(0.0, "--gpus-per-worker", "GPUs each Ray actor asks for (fractions share a GPU).",
                                 replay=False)
    cpus_per_worker: float = opt(1.0, "--cpus-per-worker", "CPUs each Ray actor asks for.", replay=False)
    shard: str | None = opt(None, "--shard", "Run only the work units of batch shard I of N (e.g. 0/3, for Slurm "
                            "arrays) into --store; merge the stores with `dabench store merge`.", replay=False,
                            metavar="I/N")

    def validate(self) -> None:
        from dabench.executors import EXECUTORS

        if self.executor not in EXECUTORS:
            raise OptionError(f"--executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.gpus_per_worker < 0 or not self.cpus_per_worker > 0:
            raise OptionError("--gpus-per-worker must be 0 or more and --cpus-per-worker more than 0")
        self.shard_of()

    def shard_of(self) -> tuple[int, int] | None:
        """``--shard I/N`` as ``(I, N)``."""
        if self.shard is None:
            return None
        m = re.fullmatch(r"(\d+)/(\d+)", self.shard.strip())
        if not m or not int(m.group(1)) < int(m.group(2)):
            raise OptionError(f"--shard {self.shard!r}: expected I/N with 0 <= I < N, e.g. 0/3")
        return int(m.group(1)), int(m.group(2))

    def build(self) -> Any:
        """The executor these options describe (nothing starts until it runs a unit)."""
        from dabench.executors import make_executor

        if self.executor == "local":
            return make_executor("local")
        return make_executor(self.executor, address=self.ray_address, workers=self.workers,
                             gpus_per_worker=self.gpus_per_worker, cpus_per_worker=self.cpus_per_worker)


#: every option group, in the order the CLI lists them
GROUPS: tuple[type, ...] = (StatsOptions, DataOptions, EngineOptions, ServerOptions, PromptOptions, RegimeOptions,
                            RunSettings, ExecutorOptions)
#: the attribute of :class:`RunOptions` holding each group
_ATTRS = ("stats", "data", "engine", "server", "prompt", "regime", "run", "executor")

#: engine options the training regimes use (dtype and batch size are the regime's own business)
BACKBONE_OPTIONS = ("device", "trust_remote_code", "arch", "adapter_base", "ckpt_prefix", "allow_pickle")
#: options of the fine-tune / probe regimes alone
TRAINING_ONLY = ("preset", "seeds", "epochs", "lr", "patience", "train_limit", "dev_limit", "pooling")
#: what the training regimes take as keywords of :func:`dabench.compare` (besides ``hyperparameters``), in order
TRAINING = TRAINING_ONLY + ("batch_size", "max_length")
#: options that mean something only for one kind of comparison: (names, regimes they apply to)
ONLY_FOR: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("shots", "shots_split", "select_prompt", "chat_template", "system_prompt", "fewshot_as_multiturn"), ("prompt",)),
    (TRAINING_ONLY, ("finetune", "probe")),
)
#: options of the Ray executor alone
RAY_ONLY = ("ray_address", "workers", "gpus_per_worker", "cpus_per_worker")
#: options of served models alone (--engine openai)
SERVER_ONLY = tuple(f.name for f in fields(ServerOptions))


def _kind_of(name: str) -> str:
    """The Python kind of an option's values: int, float, str, bool or list."""
    annotation = {k: v for group in GROUPS for k, v in typing.get_type_hints(group).items()}[name]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return "list"
    return str(getattr(annotation, "__name__", annotation))


#: per kind of option value: the test a value passes, what the error asks for, and the value kept
_KINDS: dict[str, tuple[Callable[[Any], bool], str, Callable[[Any], Any]]] = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer", lambda v: v),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number", float),
    "str": (lambda v: isinstance(v, (str, os.PathLike)), "a string", os.fspath),
    "bool": (lambda v: isinstance(v, bool), "true or false", lambda v: v),
    "list": (lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, (str, os.PathLike)) for x in v),
             "a list of strings", lambda v: [os.fspath(x) for x in v]),
}


def checked_type(name: str, value: Any) -> Any:
    """``value`` for option ``name`` if it has the option's type (an int is a float; a path is a
    string; a seed list may be given as a count or a list), else one line naming the option."""
    if name == "seeds" and (isinstance(value, int) and not isinstance(value, bool)
                            or isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value)):
        return value
    test, what, kept = _KINDS[_kind_of(name)]
    if not test(value):
        raise OptionError(f"{_flag(name)} takes {what}, not {value!r}")
    return kept(value)


def all_fields() -> dict[str, dataclasses.Field[Any]]:
    """Every option field by name (names are unique across groups)."""
    return {f.name: f for g in GROUPS for f in fields(g)}


def _flag(name: str) -> str:
    return str(all_fields()[name].metadata["flag"])


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


@dataclass
class RunOptions:
    """Every option of a run, by group."""

    stats: StatsOptions = field(default_factory=StatsOptions)
    data: DataOptions = field(default_factory=DataOptions)
    engine: EngineOptions = field(default_factory=EngineOptions)
    server: ServerOptions = field(default_factory=ServerOptions)
    prompt: PromptOptions = field(default_factory=PromptOptions)
    regime: RegimeOptions = field(default_factory=RegimeOptions)
    run: RunSettings = field(default_factory=RunSettings)
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)
    #: names of the options the user set (not defaults, not replayed)
    given: frozenset[str] = frozenset()
    #: a stored fine-tune / probe comparison's resolved hyperparameters, replayed as they were
    #: (flags the user gives override them one by one)
    hyperparameters: dict[str, Any] | None = None

    @classmethod
    def layered(cls, given: Mapping[str, Any], stored: Mapping[str, Any] | None = None) -> "RunOptions":
        """Options from the values the user gave (``None`` = not given), over the options of a
        stored comparison's config (gate replay), over the defaults; validated."""
        known = all_fields()
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}")
        values = {name: _default(f) for name, f in known.items()}
        if stored:
            values.update(replayed(stored))
        set_by_user = {k: checked_type(k, v) for k, v in given.items() if v is not None and v != [] and v != ()}
        values.update(set_by_user)
        groups = {attr: group(**{f.name: values[f.name] for f in fields(group)})
                  for attr, group in zip(_ATTRS, GROUPS)}
        hyper = None
        if stored and stored.get("regime") == values["regime"] and values["regime"] in ("finetune", "probe"):
            hyper = dict(stored.get("hyperparameters") or {}) or None
        out = cls(**groups, given=frozenset(set_by_user), hyperparameters=hyper)
        out.validate()
        return out

    def _groups(self) -> tuple[Any, ...]:
        return tuple(getattr(self, attr) for attr in _ATTRS)

    def _values(self) -> dict[str, Any]:
        """Every option's value by name."""
        return {f.name: getattr(group, f.name) for group in self._groups() for f in fields(type(group))}

    def validate(self) -> None:
        """Each group's own checks and declared bounds, then the generic checks of options set for
        another executor, engine or regime."""
        for group in self._groups():
            group.validate()
            for f in fields(type(group)):
                value, bound = getattr(group, f.name), f.metadata["bound"]
                if bound and value is not None and BOUNDS[bound][0](value):
                    raise OptionError(f"{f.metadata['flag']} {BOUNDS[bound][1].format(value)}")
        for names, needed, chosen in ((RAY_ONLY, "--executor ray", self.executor.executor == "ray"),
                                      (SERVER_ONLY, "--engine openai", self.engine.engine == "openai")):
            for name in names:
                if name in self.given and not chosen:
                    raise OptionError(f"{_flag(name)} applies to {needed}; add {needed} or drop it")
        if self.engine.engine == "openai" and not self.server.base_url:
            raise OptionError("--engine openai needs --base-url URL (the server's, e.g. http://127.0.0.1:8000/v1)")
        regime = self.regime.regime
        for names, regimes in ONLY_FOR:
            for name in names:
                if name in self.given and regime not in regimes:
                    where = "prompting" if regimes == ("prompt",) else "--regime " + "/".join(regimes)
                    raise OptionError(f"{_flag(name)} applies to {where}, not to --regime {regime}; drop it or change "
                                       "--regime")
        if regime != "prompt":
            if self.engine.dtype != "auto" and "dtype" in self.given:
                raise OptionError(f"--dtype applies to prompting; --regime {regime} trains and scores in float32")
            if self.engine.engine != "hf":
                raise OptionError(f"--regime {regime} trains and scores with the hf engine; --engine "
                                   f"{self.engine.engine} is for prompting")

    def compare_kwargs(self, tasks: Sequence[str]) -> dict[str, Any]:
        """Keyword arguments of :func:`dabench.compare` for these options."""
        values, regime = self._values(), self.regime.regime
        engine = [f.name for f in fields(EngineOptions) if f.name not in ("engine", "batch_size", "max_length")]
        if self.engine.engine == "openai":
            engine += SERVER_ONLY
        stats = [f.name for f in fields(StatsOptions)]
        kwargs: dict[str, Any] = {name: values[name] for name in (*stats, "data_dir", "limit", "domain", "regime")}
        kwargs.update(data_files=parse_data_files(self.data.data_file, tasks), store_path=self.run.store,
                      tasks_dirs=list(self.data.tasks_dir), lmeval_include_path=list(self.run.lmeval_include_path),
                      executor=self.executor.build(), shard=self.executor.shard_of())
        if regime == "prompt":
            engine.append("batch_size")
            kwargs.update({f.name: values[f.name] for f in fields(PromptOptions)}, engine=self.engine.engine)
        else:
            engine = [name for name in engine if name in BACKBONE_OPTIONS]
            training = {name: values[name] for name in (("max_length",) if regime == "intrinsic" else TRAINING)}
            if "seeds" in training:
                training["seeds"] = parse_seeds(training["seeds"])
            if regime != "intrinsic" and self.hyperparameters:
                training["hyperparameters"] = dict(self.hyperparameters)
            kwargs.update({k: v for k, v in training.items() if v is not None})
        kwargs["engine_options"] = {k: values[k] for k in engine if values[k] is not None and values[k] is not False}
        return kwargs

    def recorded(self) -> dict[str, Any]:
        """The options a comparison records in its config under ``options``: every replayable
        option that differs from its default (so two runs with the same protocol record the same),
        local paths made absolute so that a gate replays them from any folder."""
        values = self._values()
        changed = {name: values[name] for name, f in all_fields().items()
                   if f.metadata["replay"] and values[name] != _default(f)}
        return {name: _absolute(name, list(v) if isinstance(v, list) else v) for name, v in changed.items()}


#: options that name local files or folders (a hub id stays as it is)
PATH_OPTIONS = ("data_dir", "arch", "adapter_base", "tasks_dir", "lmeval_include_path", "data_file", "chat_template",
                "tokenizer")


def _absolute(name: str, value: Any) -> Any:
    """``value`` with each existing local path made absolute (``data_file``: the PATH of
    ``[TASK:]SPLIT=PATH``); anything else unchanged."""
    if name not in PATH_OPTIONS:
        return value
    if isinstance(value, list):
        return [_absolute(name, v) for v in value]
    text = str(value)
    if name in ("data_file", "tokenizer"):
        head, sep, path = text.rpartition("=")
        return f"{head}{sep}{_absolute('data_dir', path)}" if sep else _absolute("data_dir", text)
    local = Path(text).expanduser()
    return str(local.resolve()) if local.exists() else text


#: config keys that comparisons wrote before ``config.options`` existed, each its option's name but ``tasks_dirs``
_LEGACY_CONFIG = ("data_dir", "limit", "shots", "seed", "resamples", "alpha", "margin", "domain", "select_prompt",
                  "engine", "tasks_dirs", "lmeval_include_path", "regime", "preset", "max_length")


def replayed(config: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a stored comparison's ``config`` that a gate run takes over (the stored
    protocol): ``config.options`` when present, else the keys older comparisons wrote."""
    known = all_fields()
    out: dict[str, Any] = {}
    for key in _LEGACY_CONFIG:
        if config.get(key) is not None:
            out["tasks_dir" if key == "tasks_dirs" else key] = config[key]
    seeds = config.get("seeds")
    if config.get("regime") == "finetune" and seeds:
        out["seeds"] = ",".join(str(s) for s in seeds) + ("," if len(seeds) == 1 else "")
    if isinstance(out.get("tasks_dir"), str):
        out["tasks_dir"] = [out["tasks_dir"]]
    out.update((config.get("options") or {}).items())
    return {k: v for k, v in out.items() if k in known and known[k].metadata["replay"]}


def command_flags(values: Mapping[str, Any]) -> list[str]:
    """The command-line flags that set ``values`` (option name → value; e.g. :func:`replayed`),
    in declaration order, leaving out values equal to the default: what reproduces a run."""
    out: list[str] = []
    for name, f in all_fields().items():
        if name not in values or values[name] == _default(f):
            continue
        value, flag = values[name], f.metadata["flag"]
        if isinstance(value, bool):
            out.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, (list, tuple)):
            for v in value:
                out += [flag, str(v)]
        elif value is not None:
            out += [flag, str(value)]
    return out
