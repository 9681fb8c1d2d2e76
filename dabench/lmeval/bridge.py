"""Running lm-eval tasks (``lmeval:<task>``) through dabench's engines and record store.

lm-eval builds the requests (templates, few-shot examples, filters, per-sample metrics)
exactly as it always does; :class:`DabenchLM` answers them with a dabench engine. Answers
are kept per (model fingerprint, task run key, document) in the store, so an interrupted
run resumes, and a second comparison against the same base recomputes nothing for the base.
The engine is loaded only when some document has no stored answer. Unlike lm-eval's own
response cache, the key includes the model fingerprint, and each stored answer carries a
hash of its requests, so a changed prompt is recomputed, never served stale.

Tasks are found without indexing every built-in task (which costs ~10 s): the user's
``include_path`` folders come first, then only the built-in folders whose YAML names the
requested task, group or tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from dabench.engines.base import Engine, LMEngine, ScoreRequest
from dabench.errors import TaskError
from dabench.store import Store

PREFIX = "lmeval:"
CHUNK_DOCS = 64  #: documents per engine call and store commit


def strip_prefix(name: str) -> str:
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def is_lmeval_task(name: str) -> bool:
    return name.startswith(PREFIX)


# -- finding tasks ------------------------------------------------------------------------------
def builtin_task_dirs(names: Iterable[str]) -> list[Path]:
    """Folders of lm-eval's built-in tasks whose YAML declares one of ``names`` (task, group or tag)."""
    import lm_eval.tasks as tasks_pkg

    root = Path(tasks_pkg.__file__).parent
    wanted = {strip_prefix(n) for n in names}
    pat = re.compile(r"^(?:task|group|tag):\s*[\"']?([\w.\-]+)[\"']?\s*$|^\s*-\s*[\"']?([\w.\-]+)[\"']?\s*$", re.M)
    dirs: set[Path] = set()
    for f in root.rglob("*.yaml"):
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if not any(w in text for w in wanted):
            continue
        for m in pat.finditer(text):
            if (m.group(1) or m.group(2)) in wanted:
                dirs.add(f.parent)
                break
    return sorted(dirs)


def task_manager(names: Sequence[str], include_path: Sequence[str | os.PathLike[str]] = ()) -> Any:
    """An lm-eval TaskManager that knows ``names`` (user folders first, then built-in folders)."""
    from lm_eval.tasks import TaskManager

    user = [str(Path(p).expanduser()) for p in include_path]
    for p in user:
        if not Path(p).is_dir():
            raise TaskError(f"--include-path {p}: no such folder of lm-eval task YAMLs")
    tm = TaskManager(include_defaults=False, include_path=user or None) if user else None
    missing = [n for n in names if tm is None or strip_prefix(n) not in tm.all_tasks]
    if missing:
        extra = [str(d) for d in builtin_task_dirs(missing)]
        tm = TaskManager(include_defaults=False, include_path=user + extra or None)
    unknown = [n for n in names if tm is None or strip_prefix(n) not in tm.all_tasks]
    if unknown:
        raise TaskError(f"unknown lm-eval task {', '.join(unknown)}; check the name (`lm-eval ls tasks`) "
                        "or pass --include-path DIR with its YAML")
    return tm


# -- the LM that answers with a dabench engine -------------------------------------------------------
def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _lm_base() -> type:
    """lm-eval's ``LM`` base class, imported when this module is (lm-eval is optional)."""
    from lm_eval.api.model import LM

    return LM


class DabenchLM(_lm_base()):  # type: ignore[misc]
    """An lm-eval ``LM`` whose answers come from the store, else from a dabench engine."""

    def __init__(self, get_engine: Callable[[], Engine], model_fp: str, store: Store, run_keys: Mapping[str, str],
                 *, label: str = "", progress: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._get_engine = get_engine
        self.model_fp = model_fp
        self.store = store
        self.run_keys = dict(run_keys)
        self.label = label
        self.progress = progress
        self.computed = 0  #: documents answered by the engine (not the store)

    def _engine(self) -> LMEngine:
        """The engine, loaded now if it is not yet: a causal LM (lm-eval's requests are prompts)."""
        engine = self._get_engine()
        if engine.kind != "lm":
            raise TaskError(f"{engine.name}: lm-eval tasks need a causal LM; this checkpoint is a {engine.kind} "
                            "(compare it on dabench's own tasks)")
        return engine

    # lm-eval asks these of any LM
    @property
    def tokenizer_name(self) -> str:
        return ""

    def _groups(self, requests: Sequence[Any], kind: str) -> dict[tuple[str, Any], list[int]]:
        groups: dict[tuple[str, Any], list[int]] = defaultdict(list)
        for i, r in enumerate(requests):
            task = getattr(r, "task_name", None) or ""
            if task not in self.run_keys:
                raise TaskError(f"lm-eval request of an unplanned task {task!r}")
            groups[(task, r.doc_id)].append(i)
        return groups

    def _answer(self, requests: Sequence[Any], kind: str, compute: Callable[[list[list[Any]]], list[list[Any]]]) -> list[Any]:
        out: list[Any] = [None] * len(requests)
        groups = self._groups(requests, kind)
        todo: dict[str, list[tuple[Any, list[int], str]]] = defaultdict(list)
        stored_by_task = {t: self.store.get(self.model_fp, self.run_keys[t]) for t in {t for t, _ in groups}}
        for (task, doc_id), idx in groups.items():
            idx.sort(key=lambda i: requests[i].idx)
            h = _hash([list(requests[i].args) for i in idx])
            rec = stored_by_task[task].get(f"{kind}:{doc_id}")
            if rec is not None and rec.get("hash") == h and len(rec.get("resps", [])) == len(idx):
                for i, v in zip(idx, rec["resps"]):
                    out[i] = tuple(v) if kind == "loglikelihood" else v
            else:
                todo[task].append((doc_id, idx, h))
        done = sum(1 for v in out if v is not None)
        if self.progress and done:
            self.progress(len({k for k, idx in groups.items() if out[idx[0]] is not None}))
        for task, docs in todo.items():
            for start in range(0, len(docs), CHUNK_DOCS):
                chunk = docs[start:start + CHUNK_DOCS]
                answers = compute([[requests[i] for i in idx] for _, idx, _ in chunk])
                batch = []
                for (doc_id, idx, h), ans in zip(chunk, answers):
                    for i, v in zip(idx, ans):
                        out[i] = v
                    batch.append((f"{kind}:{doc_id}", {"hash": h, "resps": [list(v) if isinstance(v, tuple) else v for v in ans]}))
                self.store.put_many(self.model_fp, self.run_keys[task], batch)
                self.computed += len(chunk)
                if self.progress:
                    self.progress(len(chunk))
        return out

    def loglikelihood(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        def compute(docs: list[list[Any]]) -> list[list[tuple[float, bool]]]:
            engine = self._engine()
            flat: list[ScoreRequest] = []
            where: list[list[tuple[int, int]]] = []
            for reqs in docs:
                by_ctx: dict[str, list[int]] = {}
                for j, r in enumerate(reqs):
                    by_ctx.setdefault(r.args[0], []).append(j)
                pos = [(0, 0)] * len(reqs)
                for ctx, js in by_ctx.items():
                    for k, j in enumerate(js):
                        pos[j] = (len(flat), k)
                    flat.append(ScoreRequest(ctx, tuple(reqs[j].args[1] for j in js)))
                where.append(pos)
            scores = _loglikelihood_greedy(engine, flat)
            return [[scores[a][b] for a, b in pos] for pos in where]

        return self._answer(requests, "loglikelihood", compute)

    def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[str]:
        def compute(docs: list[list[Any]]) -> list[list[str]]:
            engine = self._engine()
            flat = [r for reqs in docs for r in reqs]
            outs: list[str] = [""] * len(flat)
            by_kwargs: dict[str, list[int]] = defaultdict(list)
            for i, r in enumerate(flat):
                by_kwargs[json.dumps(r.args[1], sort_keys=True, default=str)].append(i)
            for key, idx in by_kwargs.items():
                kw = json.loads(key)
                if kw.get("do_sample") or (kw.get("temperature") or 0) > 0:
                    raise TaskError("lm-eval task asks for sampled generation; dabench compares greedy decodes only")
                until = kw.get("until") or []
                until = [until] if isinstance(until, str) else list(until)
                gens = engine.generate([flat[i].args[0] for i in idx], stop=until,
                                       max_new_tokens=int(kw.get("max_gen_toks", 256)))
                for i, g in zip(idx, gens):
                    outs[i] = g
            it = iter(outs)
            return [[next(it) for _ in reqs] for reqs in docs]

        return self._answer(requests, "generate_until", compute)

    def loglikelihood_rolling(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[float]:
        raise TaskError("lm-eval perplexity tasks (loglikelihood_rolling) are not supported by the dabench bridge")


def _loglikelihood_greedy(engine: LMEngine, requests: list[ScoreRequest]) -> list[list[tuple[float, bool]]]:
    """Each continuation's log-likelihood with lm-eval's ``is_greedy`` flag, where the engine gives
    one (the ``hf`` engine); else the flag is False."""
    fn = getattr(engine, "loglikelihood_greedy", None)
    if fn is not None:
        return fn(requests)
    return [[(s, False) for s in row] for row in engine.loglikelihood(requests)]


# -- running tasks ------------------------------------------------------------------------------
def run_key(task: str, config: Mapping[str, Any], *, num_fewshot: int | None, fewshot_seed: int) -> str:
    """Identifies a task's requests independent of the model (lm-eval version, config, shots, seed)."""
    import lm_eval

    return _hash({"lm_eval": getattr(lm_eval, "__version__", "?"), "task": task, "config": config,
                  "num_fewshot": num_fewshot, "fewshot_seed": fewshot_seed})[:20]


def task_configs(tm: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each (sub)task's config as lm-eval loads it; groups expand to their tasks."""
    loaded = tm.load([strip_prefix(n) for n in names])
    out = {}
    for name, task in loaded["tasks"].items():
        try:
            cfg = task.dump_config()
        except Exception:  # noqa: BLE001
            cfg = {"task": name}
        out[str(name)] = cfg
    return out


def check_datasets(tm: Any, names: Sequence[str]) -> None:
    """Build every task (which loads its dataset) before any model loads: a dataset that cannot
    be had — offline and not in the local cache, a bad ``dataset_path`` — is one line naming the
    task, not a long traceback after the base model was scored."""
    from lm_eval.tasks import get_task_dict

    for name in names:
        try:
            get_task_dict([strip_prefix(name)], tm)
        except Exception as exc:  # datasets raises many kinds; each means the same to the user
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise TaskError(f"lm-eval task {name}: its dataset could not be loaded ({type(exc).__name__}: {first}); "
                            "if this machine is offline, cache the dataset first (HF_DATASETS_CACHE) or point the "
                            "task's YAML at local files (dataset_path: json, data_files)") from None


def evaluate_side(
    get_engine: Callable[[], Engine],
    model_fp: str,
    names: Sequence[str],
    store: Store,
    *,
    tm: Any,
    label: str = "",
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    fewshot_seed: int = 1234,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], DabenchLM]:
    """lm-eval's results (with ``samples``) for one model, answered through the store/engine."""
    from lm_eval import simple_evaluate

    configs = task_configs(tm, names)
    keys = {t: run_key(t, c, num_fewshot=num_fewshot, fewshot_seed=fewshot_seed) for t, c in configs.items()}
    for t, k in keys.items():
        store.register_run(model_fp, k, seed=0, model_name=label, task=PREFIX + t, spec_hash=k,
                           config={"lm_eval_task": t, "num_fewshot": num_fewshot, "limit": limit}, n_examples=0)
    lm = DabenchLM(get_engine, model_fp, store, keys, label=label, progress=progress)
    results = simple_evaluate(model=lm, tasks=[strip_prefix(n) for n in names], task_manager=tm, limit=limit,
                              num_fewshot=num_fewshot, bootstrap_iters=0, log_samples=True,
                              fewshot_random_seed=fewshot_seed, verbosity="ERROR")
    return results, lm


def task_runs_from_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """{task: LmevalTaskRun} from simple_evaluate's results (same shape as read_output_dir)."""
    from dabench.lmeval.samples import LmevalTaskRun

    out = {}
    for task, samples in (results.get("samples") or {}).items():
        cfg = (results.get("configs") or {}).get(task, {})
        agg = {}
        for m in cfg.get("metric_list") or []:
            if isinstance(m, dict) and "metric" in m:
                a = m.get("aggregation", "mean")
                agg[str(m["metric"])] = a if isinstance(a, str) else "custom"
        hib = {k: bool(v) for k, v in ((results.get("higher_is_better") or {}).get(task) or {}).items()}
        out[task] = LmevalTaskRun(task, Path("."), list(samples), hib, agg, (results.get("n-shot") or {}).get(task),
                                  (results.get("versions") or {}).get(task))
    return out
