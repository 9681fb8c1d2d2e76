"""Backbones of the training regimes: a PEFT adapter given as the adapted model is merged into its base."""

from __future__ import annotations

import torch

from dabench.regimes.backbone import Backbone


def test_lora_adapter_on_a_masked_lm_is_merged_into_the_backbone(bert_pair, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    base, _ = bert_pair
    torch.manual_seed(0)
    peft_model = get_peft_model(AutoModelForMaskedLM.from_pretrained(base),
                                LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False))
    adapter = tmp_path / "lora"
    peft_model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(base).save_pretrained(adapter)
    merged = peft_model.merge_and_unload().bert.state_dict()

    # (a masked-LM checkpoint has no pooler: AutoModel initialises one per load; the regimes never use it)
    plain, adapted = ({k: v for k, v in Backbone(str(path), {}).model().state_dict().items() if not k.startswith("pooler.")}
                      for path in (base, adapter))
    assert set(plain) == set(adapted)
    changed = {k for k in plain if not torch.equal(plain[k], adapted[k])}
    assert changed and all(".attention.self.query." in k or ".attention.self.value." in k for k in changed)
    for k in changed:  # exactly PEFT's own merge
        torch.testing.assert_close(adapted[k], merged[k])


def test_adapter_whose_weights_fit_no_module_is_refused(bert_pair, tmp_path):
    """An adapter trained on the MLM model, put on the bare encoder, would load none of its weights
    (PEFT only warns): the checkpoint layer refuses it instead of comparing the base with itself."""
    import pytest
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoModelForMaskedLM

    from dabench.engines import checkpoints as ckpts
    from dabench.errors import CheckpointError

    base, _ = bert_pair
    adapter = tmp_path / "lora"
    get_peft_model(AutoModelForMaskedLM.from_pretrained(base),
                   LoraConfig(r=2, target_modules=["query"])).save_pretrained(adapter)
    ck = ckpts.resolve(str(adapter))
    with pytest.raises(CheckpointError, match="do not exist in the base model as loaded .BertModel."):
        ckpts.load_model(ck, AutoModel, dtype=torch.float32)
    assert ckpts.load_model(ck, AutoModelForMaskedLM, dtype=torch.float32) is not None
