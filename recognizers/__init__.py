"""recognizers: everything Presidio for deid (see docs/architecture.md, "Where to add …", and README "Recognizers").

- `build_analyzer(settings, *, engine=None, extra_dirs=())`: the process's AnalyzerEngine.
- `analyze_values(analyzer, values, ...)`: many short values at once (schema inference).
- `engine_choice(settings)`: which NLP engine is in force and why (`detects_names`).
- `MIN_SCORE`: the score from which a result counts as a finding.
"""

from recognizers.analyzer import MIN_SCORE, build_analyzer, engine_choice
from recognizers.batch import analyze_values
from recognizers.engine import EngineChoice

__all__ = ["MIN_SCORE", "EngineChoice", "analyze_values", "build_analyzer", "engine_choice"]
