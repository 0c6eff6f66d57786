"""The command line's runs freeze the objects made before them, and unfreeze them after."""

from __future__ import annotations

import gc

import pytest

from born_assets.defs.runner import _frozen_heap


def test_the_heap_is_frozen_during_the_runs_and_given_back_after_them() -> None:
    assert gc.get_freeze_count() == 0
    with _frozen_heap():
        assert gc.get_freeze_count() > 0  # the imports' and definitions' objects
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), _frozen_heap():
        raise RuntimeError("a run that failed")
    assert gc.get_freeze_count() == 0  # given back all the same
