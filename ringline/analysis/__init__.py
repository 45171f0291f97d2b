"""Post-call analysis: the callee's sentiment, a summary and the agent's fields.

`analyze_with_model` sends the transcript to an OpenAI-compatible endpoint, and
`analyze_offline` uses a lexicon and rules when no model is configured.
"""

from ringline.analysis.fields import FieldDefinition, coerce
from ringline.analysis.model import AnalysisFailed, analyze_with_model
from ringline.analysis.offline import analyze_offline
from ringline.analysis.result import AnalysisResult, Segment

__all__ = [
    "AnalysisFailed",
    "AnalysisResult",
    "FieldDefinition",
    "Segment",
    "analyze_offline",
    "analyze_with_model",
    "coerce",
]
