"""lm-eval's requests, answered by dabench engines as work units.

lm-eval's requests do not depend on the model, so dabench runs its evaluation loop twice:
:func:`collect`, before any model loads, records every request (answering placeholders), and
they become one :class:`~dabench.work.Run` per task (:func:`task_runs`) whose records,
``{"hash", "resps"}`` per document, are stored and sharded like every other kind's;
:func:`replay` then answers from a side's records, so lm-eval computes its metrics as it always
does. A record carries a hash of its document's requests: a changed prompt is recomputed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dabench.engines.base import LMEngine, ScoreRequest
from dabench.errors import TaskError
from dabench.lmeval.bridge import PREFIX, run_key, short_hash, strip_prefix, task_configs
from dabench.progress import Advance, Progress
from dabench.store import RunInfo
from dabench.work import Run

if TYPE_CHECKING:
    from dabench.handles import ModelHandle

KINDS = ("loglikelihood", "generate_until")


@dataclass
class Requests:
    """Every request lm-eval makes for some tasks: per task, per document key
    (``kind:doc_id``), the requests' arguments in lm-eval's order; and each task's run key."""

    docs: dict[str, dict[str, list[list[Any]]]]
    keys: dict[str, str]
    options: dict[str, Any]

    def hash(self, task: str, doc: str) -> str:
        return short_hash(self.docs[task][doc])


def _lm_class() -> type:
    """An lm-eval ``LM`` that records its requests and answers from given records (placeholders when
    none); built on first use, as lm-eval is optional."""
    from lm_eval.api.model import LM

    class _AnswersLM(LM):
        def __init__(self, answers: Mapping[str, Mapping[str, Any]] | None) -> None:
            super().__init__()
            self.answers = answers
            self.seen: dict[str, dict[str, list[list[Any]]]] = defaultdict(dict)

        @property
        def tokenizer_name(self) -> str:
            return ""

        def _answer(self, requests: Sequence[Any], kind: str) -> list[Any]:
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            for i, r in enumerate(requests):
                groups[(getattr(r, "task_name", None) or "", f"{kind}:{r.doc_id}")].append(i)
            out: list[Any] = [None] * len(requests)
            for (task, doc), idx in groups.items():
                idx.sort(key=lambda i: requests[i].idx)
                self.seen[task][doc] = [list(requests[i].args) for i in idx]
                if self.answers is None:
                    resps: list[Any] = [[0.0, False] if kind == "loglikelihood" else "" for _ in idx]
                else:
                    resps = self.answers[task][doc]["resps"]
                for i, v in zip(idx, resps):
                    out[i] = tuple(v) if kind == "loglikelihood" else v
            return out

        def loglikelihood(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[Any]:
            return self._answer(requests, "loglikelihood")

        def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[Any]:
            return self._answer(requests, "generate_until")

        def loglikelihood_rolling(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[float]:
            raise TaskError("lm-eval perplexity tasks (loglikelihood_rolling) are not supported by the dabench "
                            "bridge")

    return _AnswersLM


def _evaluate(tm: Any, names: Sequence[str], options: Mapping[str, Any],
              answers: Mapping[str, Mapping[str, Any]] | None) -> tuple[dict[str, Any], Any]:
    from lm_eval import simple_evaluate

    lm = _lm_class()(answers)
    results = simple_evaluate(model=lm, tasks=[strip_prefix(n) for n in names], task_manager=tm,
                              limit=options.get("limit"), num_fewshot=options.get("num_fewshot"), bootstrap_iters=0,
                              log_samples=True, fewshot_random_seed=options.get("fewshot_seed", 1234),
                              verbosity="ERROR")
    return results, lm


def collect(tm: Any, names: Sequence[str], *, limit: int | float | None = None, num_fewshot: int | None = None,
            fewshot_seed: int = 1234) -> Requests:
    """Every request of ``names`` (no model involved), and each task's run key."""
    options = {"limit": limit, "num_fewshot": num_fewshot, "fewshot_seed": fewshot_seed}
    configs = task_configs(tm, names)
    keys = {t: run_key(t, c, num_fewshot=num_fewshot, fewshot_seed=fewshot_seed) for t, c in configs.items()}
    _, lm = _evaluate(tm, names, options, None)
    docs = {task: dict(lm.seen.get(task, {})) for task in keys}
    return Requests(docs, keys, options)


def task_runs(requests: Requests, label: str) -> dict[str, Run]:
    """One run per task: a record per document, computed by :class:`AnswerJob`."""
    out = {}
    for task, docs in requests.docs.items():
        hashes = {doc: requests.hash(task, doc) for doc in docs}
        info = RunInfo(model_name=label, task=PREFIX + task, spec_hash=requests.keys[task],
                       config={"lm_eval_task": task, "num_fewshot": requests.options["num_fewshot"],
                               "limit": requests.options["limit"]})
        out[task] = Run(kind="lm-eval", task=PREFIX + task, label=f"{label} · {PREFIX}{task}",
                        run_key=requests.keys[task], ids=list(docs), job=AnswerJob(docs), info=info,
                        fresh=_Fresh(hashes, {d: len(a) for d, a in docs.items()}))
    return out


@dataclass(eq=False)
class _Fresh:
    """Whether a stored record answers the document's requests as they are now."""

    hashes: dict[str, str]
    counts: dict[str, int]

    def __call__(self, doc: str, record: Any) -> bool:
        return (isinstance(record, dict) and record.get("hash") == self.hashes[doc]
                and len(record.get("resps", [])) == self.counts[doc])


def replay(tm: Any, names: Sequence[str], requests: Requests, records: Mapping[str, Mapping[str, Any]]
           ) -> dict[str, Any]:
    """lm-eval's results (with ``samples``) from one side's records, by task and document."""
    return _evaluate(tm, names, requests.options, records)[0]


@dataclass(eq=False)
class AnswerJob:
    """Answers documents' requests with the handle's engine (a causal LM)."""

    docs: dict[str, list[list[Any]]]

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance
                 ) -> list[tuple[str, Any]]:
        engine = handle.get()
        if engine.kind != "lm":
            raise TaskError(f"{engine.name}: lm-eval tasks need a causal LM; this checkpoint is a {engine.kind} "
                            "(compare it on dabench's own tasks)")
        out = []
        for kind in KINDS:
            docs = [d for d in ids if d.startswith(kind + ":")]
            if not docs:
                continue
            args = [self.docs[d] for d in docs]
            answers: list[list[Any]] = (_loglikelihoods(engine, args) if kind == "loglikelihood"
                                        else _generations(engine, args))
            for doc, reqs, ans in zip(docs, args, answers):
                out.append((doc, {"hash": short_hash(reqs), "resps": [list(v) if isinstance(v, tuple) else v
                                                                 for v in ans]}))
            advance(len(docs))
        return out


def _loglikelihoods(engine: LMEngine, docs: list[list[list[Any]]]) -> list[list[tuple[float, bool]]]:
    """Each document's (log-likelihood, is_greedy) per request, those sharing a context scored together."""
    flat: list[ScoreRequest] = []
    where: list[list[tuple[int, int]]] = []
    for reqs in docs:
        by_ctx: dict[str, list[int]] = {}
        for j, args in enumerate(reqs):
            by_ctx.setdefault(args[0], []).append(j)
        pos = [(0, 0)] * len(reqs)
        for ctx, js in by_ctx.items():
            for k, j in enumerate(js):
                pos[j] = (len(flat), k)
            flat.append(ScoreRequest(ctx, tuple(reqs[j][1] for j in js)))
        where.append(pos)
    fn = getattr(engine, "loglikelihood_greedy", None)  # lm-eval's is_greedy flag, where the engine gives it
    scores: list[list[tuple[float, bool]]] = (
        fn(flat) if fn is not None else [[(s, False) for s in row] for row in engine.loglikelihood(flat)])
    return [[scores[a][b] for a, b in pos] for pos in where]


def _generations(engine: LMEngine, docs: list[list[list[Any]]]) -> list[list[str]]:
    """Each document's greedy generations, one per request, grouped by generation settings."""
    flat = [args for reqs in docs for args in reqs]
    outs: list[str] = [""] * len(flat)
    by_kwargs: dict[str, list[int]] = defaultdict(list)
    for i, args in enumerate(flat):
        by_kwargs[json.dumps(args[1], sort_keys=True, default=str)].append(i)
    for key, idx in by_kwargs.items():
        kw = json.loads(key)
        if kw.get("do_sample") or (kw.get("temperature") or 0) > 0:
            raise TaskError("lm-eval task asks for sampled generation; dabench compares greedy decodes only")
        until = kw.get("until") or []
        until = [until] if isinstance(until, str) else list(until)
        gens = engine.generate([flat[i][0] for i in idx], stop=until, max_new_tokens=int(kw.get("max_gen_toks", 256)))
        for i, g in zip(idx, gens):
            outs[i] = g
    it = iter(outs)
    return [[next(it) for _ in reqs] for reqs in docs]
