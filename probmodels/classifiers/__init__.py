"""Neural classifiers (torch is imported when they are fitted)."""

from ._ffn import FFNClassifier
from ._transformer import TransformerClassifier

__all__ = ["FFNClassifier", "TransformerClassifier"]
