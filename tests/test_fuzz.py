"""Property-based tests (hypothesis), bounded in time: random bytes given to every data reader,
and random values given to every option, never produce a traceback — only records, or one
clear error (a :class:`~dabench.errors.DabenchError`; exit code 2 on the command line)."""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dabench.cli import main
from dabench.data.readers import READERS
from dabench.errors import DabenchError
from dabench.options import RunOptions, all_fields
from dabench.registry import get_registry

#: one registered task per reader format (the reader is the spec's ``format``)
FORMAT_TASKS = {"tsv": "sst2", "jsonl": "chemprot", "rct": "rct", "kilt": "nq"}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: bytes that look like data rows: separators, quotes, braces, digits, labels, invalid UTF-8
ROWISH = st.lists(st.sampled_from([b"\t", b"\n", b"\r\n", b'"', b"{", b"}", b"[", b"]", b":", b",", b"0", b"1",
                                   b"label", b"sentence", b"text", b"null", b"\xff\xfe", b"\x00", b" ", b"###",
                                   b'{"text": "a", "label": "INHIBITOR"}', b"OBJECTIVE\tx", b'"id": 1']),
                  max_size=40).map(b"".join)


@pytest.mark.parametrize("fmt", sorted(READERS))
@FUZZ
@given(data=st.one_of(st.binary(max_size=300), ROWISH))
def test_readers_never_raise_anything_but_a_data_error(fmt: str, data: bytes, tmp_path_factory: pytest.TempPathFactory
                                                       ) -> None:
    spec = get_registry([]).get(FORMAT_TASKS[fmt])
    path = tmp_path_factory.mktemp("fuzz") / f"split.{ 'tsv' if fmt == 'tsv' else 'txt'}"
    path.write_bytes(data)
    try:
        examples = READERS[fmt](path, spec, spec.eval_split)
    except DabenchError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert all(ex.id for ex in examples)


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.lists(st.text(max_size=6), max_size=3))


@FUZZ
@given(values=st.dictionaries(st.sampled_from(sorted(all_fields())), VALUES, max_size=4))
def test_the_option_layer_never_raises_anything_but_an_option_error(values: dict) -> None:
    try:
        RunOptions.layered(values).compare_kwargs(["sst2"])
    except DabenchError as exc:
        assert str(exc).startswith("--") and "\n" not in str(exc), str(exc)


FLAGS = sorted(f.metadata["flag"] for f in all_fields().values())


@FUZZ
@given(flag=st.sampled_from(FLAGS), value=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]),
                                                    max_size=10))
def test_any_flag_value_on_the_command_line_is_one_line_and_exit_2(flag: str, value: str, capsys: pytest.CaptureFixture[str],
                                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("o")
    args = ["compare", str(out / "no-base"), str(out / "no-adapted"), "--tasks", "sst2", "--out", str(out / "r"),
            "--store", str(out / "s.sqlite")]
    args += [flag] if flag.startswith("--") and value == "" and flag in ("--select-prompt", "--allow-pickle",
                                                                         "--trust-remote-code") else [flag, value]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, (args, err)
    assert "internal error" not in err and "Traceback" not in err, err
