"""Prompt formats: plain text, or a chat template rendered with a model's own tokenizer.

The task's prompt becomes a user turn (after an optional system turn), the shots come before it
(as user / assistant turns with ``--fewshot-as-multiturn``, else inside the one user turn), and
the model's reply is what is scored or generated. ``--chat-template auto`` gives each model its
own tokenizer's template (plain prompts without one), ``PATH`` one Jinja file for both, ``off``
(the default) plain prompts. A format's id (``chat-<hash>``) keys its records apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Sequence

from dabench.errors import OptionError, TaskError

#: end-of-turn markers of common chat templates, added to the stop sequences when the tokenizer has them
END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>")
CHAT_MODES = ("off", "auto")


@dataclass(frozen=True)
class PromptFormat:
    """A chat format: whose tokenizer renders it (its location, so a plan stays picklable), with
    which template, system prompt and shot layout."""

    tokenizer: str
    template: str
    system_prompt: str | None = None
    multiturn: bool = False
    source: str = "tokenizer"  # "tokenizer" (the model's own) or the template file's path

    @property
    def id(self) -> str:
        blob = f"{self.template}\x00{self.system_prompt or ''}\x00{int(self.multiturn)}"
        return "chat-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    @property
    def template_sha(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """What the signature records of the format."""
        return {"format": "chat", "id": self.id, "template_source": self.source, "template_sha256": self.template_sha,
                "system_prompt": self.system_prompt, "fewshot_as_multiturn": self.multiturn}

    def render(self, shots: Sequence[tuple[str, str]], prompt: str, *, target_delimiter: str = " ",
               fewshot_delimiter: str = "\n\n") -> str:
        """The conversation (shots as (prompt, answer) pairs, then the prompt) as the model sees it;
        in one user turn, the shots are laid out as in the plain format (the delimiters)."""
        messages: list[dict[str, str]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        if self.multiturn:
            for q, a in shots:
                messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            messages.append({"role": "user", "content": prompt})
        else:
            content = fewshot_delimiter.join([q + target_delimiter + a for q, a in shots] + [prompt])
            messages.append({"role": "user", "content": content})
        try:
            text = _tokenizer(self.tokenizer).apply_chat_template(messages, chat_template=self.template, tokenize=False,
                                                                  add_generation_prompt=True)
        except Exception as exc:  # noqa: BLE001 - a template error is the template's, whatever its type
            raise TaskError(f"chat template ({self.source}) cannot render a prompt: {str(exc).splitlines()[0]}") from None
        return str(text)

    @cached_property
    def stops(self) -> list[str]:
        """End-of-turn strings of this tokenizer (generation stops at the first); computed once."""
        tok = _tokenizer(self.tokenizer)
        vocab = tok.get_vocab()
        found = [t for t in END_OF_TURN if t in vocab or t in self.template]
        if tok.eos_token and tok.eos_token not in found:
            found.append(str(tok.eos_token))
        return found


@dataclass(frozen=True)
class ChatSettings:
    """The chat options of a comparison: ``--chat-template`` (off, auto or a file), the system
    prompt, and whether shots are separate turns."""

    mode: str = "off"
    system_prompt: str | None = None
    multiturn: bool = False

    def template_text(self) -> str | None:
        """A template file's text (read and checked now, before any model loads); None for off/auto."""
        return None if self.mode in CHAT_MODES else read_template_file(self.mode)

    def format_for(self, tokenizer_source: str | None, template_text: str | None) -> PromptFormat | None:
        """The format of a model whose tokenizer is at ``tokenizer_source`` (None: plain). ``auto``
        gives the tokenizer's own template, or None when it has none; a path gives ``template_text``
        (read once at plan time) rendered with the model's tokenizer."""
        if self.mode == "off":
            return None
        if tokenizer_source is None:
            raise OptionError("--chat-template needs the model's tokenizer: with --engine openai, pass --tokenizer DIR")
        if self.mode == "auto":
            own = _tokenizer(tokenizer_source).chat_template
            if not own:
                return None
            template = own if isinstance(own, str) else dict(own).get("default") or next(iter(dict(own).values()))
            return PromptFormat(tokenizer_source, str(template), self.system_prompt, self.multiturn)
        assert template_text is not None
        return PromptFormat(tokenizer_source, template_text, self.system_prompt, self.multiturn,
                            source=str(Path(self.mode).name))


@lru_cache(maxsize=16)
def _tokenizer(source: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source)


def read_template_file(path: str) -> str:
    """A ``--chat-template PATH`` file's text, checked to be a Jinja template (one line if not)."""
    import jinja2

    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"--chat-template {path}: cannot be read ({exc.__class__.__name__}); pass off, auto or the "
                          "path of a Jinja chat template file") from None
    try:
        jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise OptionError(f"--chat-template {path}: not a valid Jinja template (line {exc.lineno}: {exc.message})") from None
    return text
